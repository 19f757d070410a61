import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import type { GatewayConfig } from "../config.js";
import { connect } from "../db/connect.js";
import { migrate } from "../db/migrate.js";
import { recoverInterrupted } from "../db/recover.js";
import { sweepExpiredLeases } from "../generation/lease_sweep.js";
import { createNotifyBus } from "../notify_bus.js";
import type { Logger } from "../server/logger.js";
import { createMetrics, type Metrics } from "../server/metrics.js";
import { type MetricsServer, serveMetrics } from "../server/metrics_server.js";
import { createLocalRunner, presenceHeartbeatMs, RoleError } from "../server/topology.js";
import { startTracing } from "../server/tracing.js";
import { loadTasks } from "../tasks.js";
import {
  consumeGenerationJobs,
  installQueue,
  type QueueConsumer,
  waitingJobs,
} from "./graphile.js";
import { AdvertisedWorker } from "./registry.js";

/** Rows of workers silent for this many leases are deleted when a worker starts (they died). */
const FORGET_AFTER_LEASES = 20;

export interface WorkerOptions {
  engine: EngineClient;
  config: Pick<
    GatewayConfig,
    | "databaseUrl"
    | "tasks"
    | "limits"
    | "cancelGraceMs"
    | "leaseMs"
    | "drainMs"
    | "host"
    | "metricsPort"
    | "metricsToken"
  >;
  tasks?: TaskRegistry;
  logger?: Logger;
}

export interface Worker {
  /** The model whose jobs it claims. */
  readonly model: string;
  /** Its row in `workers` (registry.ts). */
  readonly id: string;
  readonly metrics: Metrics;
  /** Where /metrics and /healthz are served (`metricsPort`); unset: not served. */
  readonly metricsUrl?: string;
  /**
   * Stops claiming, lets running answers finish within drainMs, hands back the rest (they end
   * INTERRUPTED with their partial content, as a dead worker's do, at once), closes.
   */
  close(): Promise<void>;
}

/**
 * `padt worker`: claims generation jobs for its engine's model from the durable queue on
 * PostgreSQL, as many at once as the engine has workers, and runs each like `--role all`
 * does (events stored with gap-free seqs, woken on every gateway by LISTEN/NOTIFY), holding a
 * renewed lease on the answer meanwhile. It advertises its model, capacity and answers in
 * flight in `workers` (registry.ts), which gateways admit against. It serves no GraphQL; with
 * `metricsPort`, a small HTTP server has its /metrics and /healthz.
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { engine, config, logger } = options;
  const url = config.databaseUrl;
  if (!url)
    throw new RoleError(
      "padt worker needs a PostgreSQL server (DATABASE_URL or --database-url): it takes its jobs from the queue there",
    );
  // The answers' spans are made here, where the jobs run: the job's traceparent links them to
  // the gateway's operation span.
  const tracing = await startTracing();
  if (tracing.enabled) logger?.info("exporting traces over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)");
  const handle = await connect({ url });
  try {
    await migrate(handle);
    await installQueue(handle, url);
    await recoverInterrupted(handle.db, { unleased: false, leaseMs: config.leaseMs });
  } catch (error) {
    await handle.close();
    await tracing.shutdown();
    throw error;
  }
  const tasks = options.tasks ?? (await loadTasks(config.tasks));
  const bus = createNotifyBus(url, logger);
  await bus.ready;
  const metrics = createMetrics();
  const sweep = sweepExpiredLeases({
    db: handle.db,
    bus,
    everyMs: config.leaseMs / 2,
    leaseMs: config.leaseMs,
    queued: true,
    ...(logger ? { logger } : {}),
  });
  const runner = createLocalRunner({
    config,
    handle,
    engine,
    tasks,
    bus,
    leased: true,
    metrics,
    // Past the drain window an answer is handed back: ended as a dead worker's would be,
    // at once, not when its lease runs out (docs/decisions.md 11).
    handBack: (messageId) => sweep.handBack([messageId]),
    ...(logger ? { logger } : {}),
  });
  const model = engine.info.name;
  // Each engine worker runs a batch of answers at once (the runner's run queue): its capacity.
  const capacity = engine.stats().slots;
  metrics.readQueueDepthFrom(() => waitingJobs(handle.db, model));
  let claiming = true;
  let advert: AdvertisedWorker | undefined;
  let server: MetricsServer | undefined;
  let consumer: QueueConsumer;
  const closeAll = async () => {
    await advert?.close();
    sweep.stop();
    await server?.close();
    await bus.close();
    await handle.close();
    await tracing.shutdown();
  };
  try {
    const registered = await AdvertisedWorker.register(
      handle.db,
      { model, capacity, executionProvider: engine.info.executionProvider },
      {
        heartbeatMs: presenceHeartbeatMs(config.leaseMs),
        forgetMs: config.leaseMs * FORGET_AFTER_LEASES,
        ...(logger ? { logger } : {}),
      },
    );
    advert = registered;
    if (config.metricsPort !== undefined)
      server = await serveMetrics({
        metrics,
        port: config.metricsPort,
        host: config.host,
        ...(config.metricsToken ? { token: config.metricsToken } : {}),
        healthy: () => claiming,
        ...(logger ? { logger } : {}),
      });
    consumer = await consumeGenerationJobs({
      url,
      model,
      concurrency: capacity,
      handle: async (job, waitedMs) => {
        const claimedAt = performance.now();
        metrics.claimLatency.observe(waitedMs / 1000);
        logger?.info({ messageId: job.messageId }, "job claimed");
        registered.claimed(job.messageId);
        try {
          await runner.runQueued(job);
        } finally {
          registered.finished(job.messageId, performance.now() - claimedAt);
        }
      },
      ...(logger ? { logger } : {}),
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  logger?.info({ model, workers: capacity, worker: advert.id }, "worker claiming jobs");
  let closing: Promise<void> | undefined;
  return {
    model,
    id: advert.id,
    metrics,
    ...(server ? { metricsUrl: server.url } : {}),
    close() {
      closing ??= (async () => {
        // Stop claiming first; the queue's stop waits for the jobs it handed out, which the
        // drain lets finish within drainMs and then hands back. The row goes last: until then
        // gateways still count this worker's answers in service.
        claiming = false;
        const stopped = consumer.stop();
        await runner.drain(config.drainMs);
        await stopped;
        await closeAll();
      })();
      return closing;
    },
  };
}
