import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { RouteHandler } from "./http.js";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** packages/playground/dist, seen from this file in src/server or dist/server of the gateway. */
export const defaultPlaygroundDir = fileURLToPath(
  new URL("../../../playground/dist", import.meta.url),
);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}

function fileRoute(path: string): RouteHandler {
  const type = CONTENT_TYPES[extname(path)] ?? "application/octet-stream";
  // Vite names assets by content hash; index.html must be revalidated to pick up new ones.
  const cache = path.includes(`${sep}assets${sep}`)
    ? "public, max-age=31536000, immutable"
    : "no-cache";
  return (req, res) => {
    const body = readFileSync(path);
    res.writeHead(200, {
      "content-type": type,
      "content-length": body.length,
      "cache-control": cache,
      "x-content-type-options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}

/**
 * The playground's built files as exact-path routes (`/` is index.html). Only files present
 * under `dir` at start-up are served, so no request path can reach outside it; anything else
 * falls through to the gateway's 404. Empty when the playground has not been built.
 */
export function playgroundRoutes(dir = defaultPlaygroundDir): Record<string, RouteHandler> {
  if (!existsSync(join(dir, "index.html"))) return {};
  const routes: Record<string, RouteHandler> = {};
  for (const file of listFiles(dir)) {
    routes[`/${relative(dir, file).split(sep).join("/")}`] = fileRoute(file);
  }
  routes["/"] = routes["/index.html"]!;
  return routes;
}
