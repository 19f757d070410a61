import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { ErrorCode } from "@padt/protocol";
import type { Context, Services } from "../graphql/context.js";
import { handleGraphQL } from "./apollo.js";
import { serveImage, uploadImage } from "./images_routes.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { MetricsRefusal } from "./metrics_access.js";
import { BodyTooLargeError, readBody, sendError, sendJson } from "./respond.js";

/** A route added by the embedder, e.g. the playground page at "/". */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpOptions {
  apollo: ApolloServer<Context>;
  services: Services;
  metrics: Metrics;
  logger: Logger;
  graphqlPath: string;
  /** Exact paths served by the embedder (GET and HEAD); "/" is where the playground will go. */
  routes: Record<string, RouteHandler>;
  /** True once started and until shutdown begins. */
  ready: () => boolean;
  /** Database and engine checks for /readyz. */
  check: () => Promise<void>;
  draining: () => boolean;
  /** Who may read /metrics (metrics_access.ts): undefined lets the request through. */
  metricsAccess: (req: IncomingMessage) => MetricsRefusal | undefined;
}

const IMAGE_PATH = /^\/images\/([^/]+)$/;

export function createRequestHandler(options: HttpOptions) {
  const { services, logger, metrics } = options;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    try {
      if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
      if (path === "/readyz") {
        if (!options.ready())
          return sendJson(res, 503, { status: options.draining() ? "draining" : "starting" });
        try {
          await options.check();
        } catch (error) {
          logger.warn({ err: error }, "readiness check failed");
          return sendJson(res, 503, { status: "unavailable" });
        }
        return sendJson(res, 200, { status: "ready" });
      }
      if (path === "/metrics") {
        req.resume();
        const refused = options.metricsAccess(req);
        if (refused) return sendError(res, refused.status, refused.code, refused.message);
        const text = await metrics.registry.metrics();
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
        return;
      }
      if (options.draining()) {
        req.resume();
        return sendError(
          res,
          503,
          ErrorCode.SHUTTING_DOWN,
          "The server is shutting down",
          {},
          {
            connection: "close",
            "retry-after": "1",
          },
        );
      }
      if (path === options.graphqlPath) {
        let body: Buffer | undefined;
        if (req.method === "POST") {
          try {
            body = await readBody(req, services.limits.bodyBytes);
          } catch (error) {
            if (error instanceof BodyTooLargeError)
              return sendError(
                res,
                413,
                ErrorCode.BODY_TOO_LARGE,
                error.message,
                { maxBytes: error.limit },
                { connection: "close" },
              );
            throw error;
          }
        }
        return await handleGraphQL(options.apollo, services, req, res, url, body);
      }
      const image = IMAGE_PATH.exec(path);
      if (image && (req.method === "GET" || req.method === "HEAD"))
        return await serveImage(services, req, res, image[1]!);
      if (path === "/images" && req.method === "POST") return await uploadImage(services, req, res);
      const route = options.routes[path];
      if (route && (req.method === "GET" || req.method === "HEAD")) return await route(req, res);
      req.resume();
      return sendError(
        res,
        404,
        ErrorCode.NOT_FOUND,
        `Nothing at ${path}${path === "/" ? " (the playground is not part of this build)" : ""}`,
      );
    } catch (error) {
      logger.error({ err: error, path }, "request failed");
      if (!res.headersSent)
        sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error");
      else res.destroy();
    }
  };
}
