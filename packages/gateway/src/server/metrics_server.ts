import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCode } from "@padt/protocol";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { metricsAccess } from "./metrics_access.js";
import { sendError, sendJson } from "./respond.js";

export interface MetricsServer {
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

/**
 * `padt worker --metrics-port`: a worker serves no GraphQL, so this small server is where a
 * scraper reads its registry (/metrics, Prometheus text, same access rule as a gateway's:
 * loopback, or the metrics token) and a supervisor its liveness (/healthz: 200 while it claims
 * jobs, 503 once it drains).
 */
export async function serveMetrics(options: {
  metrics: Metrics;
  port: number;
  host: string;
  token?: string;
  /** False once the process stopped claiming work (draining). */
  healthy: () => boolean;
  logger?: Logger;
}): Promise<MetricsServer> {
  const access = metricsAccess(options.token);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz")
      return options.healthy()
        ? sendJson(res, 200, { status: "ok" })
        : sendJson(res, 503, { status: "draining" });
    if (path !== "/metrics") return sendError(res, 404, ErrorCode.NOT_FOUND, "Not found");
    const refused = access(req);
    if (refused) return sendError(res, refused.status, refused.code, refused.message);
    const text = await options.metrics.registry.metrics();
    res.writeHead(200, { "content-type": options.metrics.registry.contentType });
    res.end(text);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      options.logger?.warn({ err: error }, "metrics request failed");
      if (!res.headersSent)
        sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, "metrics unavailable");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
