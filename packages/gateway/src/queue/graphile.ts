/**
 * The one module that imports graphile-worker (docs/decisions.md says why this library).
 * Its own schema (graphile_worker) is installed by its own migrator; jobs are added with its
 * `add_job()` SQL function, which joins whatever transaction calls it, so an answer and its
 * job commit together or not at all.
 */

import { sql } from "drizzle-orm";
import { Logger, run, runMigrations } from "graphile-worker";
import type { Database, DatabaseHandle } from "../db/database.js";
import { MIGRATION_LOCK_KEY } from "../db/migrate.js";
import type { GenerationJob } from "../generation/job.js";
import type { Logger as PadtLogger } from "../server/logger.js";

/**
 * A job's task names the model it needs: a worker registers only its own model's task, so
 * graphile-worker hands it only the jobs that model can answer.
 */
export function generationTask(model: string): string {
  return `padt_generate:${model}`;
}

const quiet = (logger?: PadtLogger) =>
  new Logger(() => (level, message) => {
    if (level === "error") logger?.error({ queue: "graphile-worker" }, message);
    else if (level === "warning") logger?.warn({ queue: "graphile-worker" }, message);
  });

/** Installs or upgrades the queue's schema; replicas starting together take turns. */
export async function installQueue(handle: DatabaseHandle, url: string): Promise<void> {
  await handle.withAdvisoryLock(MIGRATION_LOCK_KEY, () =>
    runMigrations({ connectionString: url, logger: quiet() }),
  );
}

/**
 * Adds the generation job inside `tx`. One attempt: a job whose worker died is not run again
 * (its answer ends INTERRUPTED when its lease runs out, docs/decisions.md); the message id is
 * the job key, so a job is never added twice for one answer.
 */
export async function addGenerationJob(
  tx: Database,
  model: string,
  job: GenerationJob,
): Promise<void> {
  await tx.execute(
    sql`SELECT graphile_worker.add_job(${generationTask(model)}, ${JSON.stringify(job)}::json, max_attempts => 1, job_key => ${job.messageId})`,
  );
}

export interface QueueConsumer {
  /** Stops claiming; resolves once the jobs it runs have returned. */
  stop(): Promise<void>;
}

/**
 * Claims `model`'s generation jobs, at most `concurrency` at a time, woken by the queue's
 * LISTEN/NOTIFY (polling every 2 s only as a backstop), and runs each through `handle`.
 */
export async function consumeGenerationJobs(options: {
  url: string;
  model: string;
  concurrency: number;
  handle: (job: GenerationJob) => Promise<void>;
  logger?: PadtLogger;
}): Promise<QueueConsumer> {
  const runner = await run({
    connectionString: options.url,
    concurrency: Math.max(1, options.concurrency),
    noHandleSignals: true,
    pollInterval: 2000,
    logger: quiet(options.logger),
    taskList: {
      [generationTask(options.model)]: (payload) => options.handle(payload as GenerationJob),
    },
  });
  return { stop: () => runner.stop() };
}
