import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { playgroundRoutes } from "@padt/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The gateway's static route for the built page, on a plain server dispatching by exact
// path as the gateway's request handler does.
describe("gateway route serving the built playground", () => {
  let root: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "padt-playground-"));
    const dist = join(root, "dist");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>p</title>");
    writeFileSync(join(dist, "assets", "app-1.js"), "console.log(1)");
    writeFileSync(join(dist, "assets", "app-1.css"), "body{}");
    writeFileSync(join(root, "secret.txt"), "not served");
    const routes = playgroundRoutes(dist);
    server = createServer((req, res) => {
      const route = routes[new URL(req.url ?? "/", "http://x").pathname];
      if (route) return void route(req, res);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it("serves index.html at / and assets with their content types", async () => {
    const index = await fetch(`${url}/`);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await index.text()).toContain("<title>p</title>");
    const js = await fetch(`${url}/assets/app-1.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${url}/assets/app-1.css`)).headers.get("content-type")).toContain(
      "text/css",
    );
  });

  it("serves nothing outside the built files", async () => {
    for (const path of [
      "/secret.txt",
      "/../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/",
      "/nope.js",
    ])
      expect((await fetch(`${url}${path}`)).status).toBe(404);
  });

  it("is empty when the page has not been built", () => {
    expect(playgroundRoutes(join(root, "missing"))).toEqual({});
  });
});
