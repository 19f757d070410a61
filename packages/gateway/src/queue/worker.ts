import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import type { GatewayConfig } from "../config.js";
import { connect } from "../db/connect.js";
import { migrate } from "../db/migrate.js";
import { recoverInterrupted } from "../db/recover.js";
import { sweepExpiredLeases } from "../generation/lease_sweep.js";
import { createNotifyBus } from "../notify_bus.js";
import type { Logger } from "../server/logger.js";
import { createLocalRunner, RoleError } from "../server/topology.js";
import { startTracing } from "../server/tracing.js";
import { loadTasks } from "../tasks.js";
import { consumeGenerationJobs, installQueue } from "./graphile.js";

export interface WorkerOptions {
  engine: EngineClient;
  config: Pick<
    GatewayConfig,
    "databaseUrl" | "tasks" | "limits" | "cancelGraceMs" | "leaseMs" | "drainMs"
  >;
  tasks?: TaskRegistry;
  logger?: Logger;
}

export interface Worker {
  /** The model whose jobs it claims. */
  readonly model: string;
  /** Stops claiming, lets running answers finish within drainMs (then cancels them), closes. */
  close(): Promise<void>;
}

/**
 * `padt worker`: claims generation jobs for its engine's model from the durable queue on
 * PostgreSQL, as many at once as the engine has workers, and runs each like `--role all`
 * does (events stored with gap-free seqs, woken on every gateway by LISTEN/NOTIFY), holding a
 * renewed lease on the answer meanwhile. It serves no GraphQL.
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
    await recoverInterrupted(handle.db, { unleased: false });
  } catch (error) {
    await handle.close();
    await tracing.shutdown();
    throw error;
  }
  const tasks = options.tasks ?? (await loadTasks(config.tasks));
  const bus = createNotifyBus(url, logger);
  await bus.ready;
  const runner = createLocalRunner({
    config,
    handle,
    engine,
    tasks,
    bus,
    leased: true,
    ...(logger ? { logger } : {}),
  });
  const sweep = sweepExpiredLeases({
    db: handle.db,
    bus,
    everyMs: config.leaseMs / 2,
    ...(logger ? { logger } : {}),
  });
  const model = engine.info.name;
  const consumer = await consumeGenerationJobs({
    url,
    model,
    concurrency: engine.stats().workers,
    handle: (job) => {
      logger?.info({ messageId: job.messageId }, "job claimed");
      return runner.runQueued(job);
    },
    ...(logger ? { logger } : {}),
  });
  logger?.info({ model, workers: engine.stats().workers }, "worker claiming jobs");
  let closing: Promise<void> | undefined;
  return {
    model,
    close() {
      closing ??= (async () => {
        // Stop claiming first; the queue's stop waits for the jobs it handed out, which the
        // drain lets finish within drainMs and then cancels.
        const stopped = consumer.stop();
        await runner.drain(config.drainMs);
        await stopped;
        sweep.stop();
        await bus.close();
        await handle.close();
        await tracing.shutdown();
      })();
      return closing;
    },
  };
}
