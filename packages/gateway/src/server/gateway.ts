import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import { sql } from "drizzle-orm";
import { ensureLocalKey } from "../auth.js";
import { defaultConfig, type GatewayConfig, type Limits } from "../config.js";
import { type ConnectOptions, connect } from "../db/connect.js";
import type { DatabaseHandle } from "../db/database.js";
import { migrate } from "../db/migrate.js";
import type { Services } from "../graphql/context.js";
import { servedSchema } from "../graphql/published_schema.js";
import { ImageService } from "../images.js";
import { loadTasks } from "../tasks.js";
import { createApollo } from "./apollo.js";
import { queryProtection } from "./armor.js";
import { answerClientError } from "./client_errors.js";
import { createRequestHandler, type RouteHandler } from "./http.js";
import { createLogger, type Logger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { metricsAccess } from "./metrics_access.js";
import { playgroundRoutes } from "./playground_route.js";
import { watchTerminationSignals } from "./signals.js";
import { wireTopology } from "./topology.js";
import { startTracing } from "./tracing.js";
import { attachWebSocket } from "./ws.js";

export type GatewayConfigInput = Partial<Omit<GatewayConfig, "limits">> & {
  limits?: Partial<Limits>;
};

export interface GatewayOptions {
  /** The engine (PadtEngine, or a client of a remote one): the gateway only uses EngineClient. */
  engine: EngineClient;
  /** Merged over the defaults (loadConfig() reads env, file and flags). */
  config?: GatewayConfigInput;
  /** An open database (not closed by the gateway), or how to open one; default: config. */
  database?: DatabaseHandle | ConnectOptions;
  /** Default: the modules of config.tasks. */
  tasks?: TaskRegistry;
  logger?: Logger;
  /** Extra GET routes by exact path, e.g. `{ "/": playground }`. */
  routes?: Record<string, RouteHandler>;
  /**
   * Embedded mode: create, print and save a local API key on first start. Default: when the
   * database is embedded PGlite in the data directory (no DATABASE_URL, no database given).
   */
  localKey?: boolean;
  /** Where the local key is printed (default: stdout). */
  print?: (line: string) => void;
}

export interface Gateway {
  /** http://host:port once listening. */
  url: string;
  readonly server: Server;
  readonly services: Services;
  readonly metrics: Metrics;
  readonly config: GatewayConfig;
  /** The local API key, in embedded mode. */
  readonly localKey?: string;
  /**
   * Graceful shutdown: readiness fails and new work is refused at once; running generations
   * get the drain window, then are cancelled; then WebSockets and HTTP are closed.
   */
  close(): Promise<void>;
}

function isHandle(value: GatewayOptions["database"]): value is DatabaseHandle {
  return Boolean(value && "withAdvisoryLock" in value);
}

function resolveConfig(input: GatewayConfigInput = {}): GatewayConfig {
  const base = defaultConfig();
  return { ...base, ...input, limits: { ...base.limits, ...input.limits } };
}

/** Opens the database (migrated, interrupted generations recovered) and wires the server; does not listen. */
export async function createGateway(
  options: GatewayOptions,
): Promise<Omit<Gateway, "url"> & { listen(port?: number, host?: string): Promise<string> }> {
  const config = resolveConfig(options.config);
  const logger = options.logger ?? createLogger();
  const metrics = createMetrics();
  const tracing = await startTracing();
  if (tracing.enabled) logger.info("exporting traces over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)");
  const owned = !isHandle(options.database);
  const handle = isHandle(options.database)
    ? options.database
    : await connect(
        options.database ??
          (config.databaseUrl
            ? { url: config.databaseUrl }
            : { dataDir: join(config.dataDir, "db") }),
      );
  await migrate(handle);
  const embedded = !options.database && !config.databaseUrl;
  const localKey =
    (options.localKey ?? embedded)
      ? (
          await ensureLocalKey(
            handle.db,
            config.dataDir,
            options.print ?? ((l) => process.stdout.write(`${l}\n`)),
          )
        ).key
      : undefined;

  const tasks = options.tasks ?? (await loadTasks(config.tasks));
  // Recovery, the bus and who runs answers depend on the database and the role.
  const topology = await wireTopology({
    config,
    handle,
    url: isHandle(options.database)
      ? config.databaseUrl
      : options.database && "url" in options.database
        ? options.database.url
        : config.databaseUrl,
    engine: options.engine,
    tasks,
    metrics,
    logger,
  });
  const { bus, runner } = topology;
  const services: Services = {
    db: handle.db,
    engine: options.engine,
    tasks,
    bus,
    runner,
    images: new ImageService(options.engine, config.limits),
    limits: config.limits,
  };
  // The same function writes schema.graphql (npm run schema), so the published file is this.
  const schema = servedSchema(tasks);
  const apollo = createApollo({
    schema,
    services,
    limits: config.limits,
    production: config.production,
    metrics,
    logger,
  });
  await apollo.start();

  let phase: "starting" | "ready" | "draining" | "closed" = "starting";
  const server = createServer(
    createRequestHandler({
      apollo,
      services,
      metrics,
      logger,
      graphqlPath: "/graphql",
      routes: options.routes ?? playgroundRoutes(),
      ready: () => phase === "ready",
      draining: () => phase === "draining" || phase === "closed",
      check: async () => {
        await handle.db.execute(sql`select 1`);
        options.engine.stats();
      },
      metricsAccess: metricsAccess(config.metricsToken),
    }),
  );
  server.on("clientError", answerClientError);
  const ws = attachWebSocket({
    server,
    path: "/graphql",
    schema,
    services,
    limits: config.limits,
    validationRules: queryProtection(config.limits, config.production).validationRules,
    logger,
    accepting: () => phase === "ready",
    keyCheckMs: config.keyCheckMs,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      phase = "draining";
      logger.info({ drainMs: config.drainMs }, "shutting down");
      await runner.drain(config.drainMs);
      await topology.close();
      // Let subscribers of the generations that just ended deliver their last events.
      for (let waited = 0; bus.openMessageStreams > 0 && waited < 1000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await ws.close();
      await apollo.stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      phase = "closed";
      if (owned) await handle.close();
      // Last: the spans of the generations that drained above are exported.
      await tracing.shutdown();
    })();
    return closing;
  };

  return {
    server,
    services,
    metrics,
    config,
    localKey,
    close,
    async listen(port = config.port, host = config.host) {
      await new Promise<void>((resolve, reject) => {
        const fail = (error: NodeJS.ErrnoException) => reject(listenError(error, host, port));
        server.once("error", fail);
        server.listen(port, host, () => {
          server.off("error", fail);
          resolve();
        });
      });
      phase = "ready";
      const { port: bound } = server.address() as AddressInfo;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
      logger.info({ url }, "gateway listening");
      return url;
    },
  };
}

/** listen()'s usual failures, said in the operator's terms. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const at = `cannot listen on ${host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE:
      "the port is in use by another process (stop it, or choose a port with --port or PORT)",
    EACCES:
      "permission denied (a port under 1024 needs privileges; choose one with --port or PORT)",
    EADDRNOTAVAIL: "this machine has no such address (--host or HOST)",
  };
  const reason = why[error.code ?? ""];
  return reason ? new Error(`${at}: ${reason}`, { cause: error }) : error;
}

/**
 * createGateway, then listen; if it cannot listen, what it opened is closed again and the
 * error thrown. With `handleSignals`, SIGTERM and SIGINT drain it (see close()) and then end
 * the process with status 0 (1 if closing failed).
 */
export async function startGateway(
  options: GatewayOptions & { port?: number; host?: string; handleSignals?: boolean },
): Promise<Gateway> {
  const gateway = await createGateway(options);
  let url: string;
  try {
    url = await gateway.listen(options.port, options.host);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  if (options.handleSignals) {
    const { drainMs } = gateway.config;
    const signals = watchTerminationSignals((signal) =>
      process.stderr.write(`${signal}: already draining (up to ${drainMs} ms)\n`),
    );
    void signals.received
      .then((signal) => {
        process.stderr.write(`${signal}: draining (up to ${drainMs} ms)\n`);
        return gateway.close();
      })
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  }
  const { listen: _listen, ...rest } = gateway;
  return { ...rest, url };
}
