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

/** Jobs not claimed yet, for `model` or (unset) every model: the queue depth on all replicas. */
export async function waitingJobs(db: Database, model?: string): Promise<number> {
  const task = model ? sql`= ${generationTask(model)}` : sql`LIKE 'padt\_generate:%'`;
  // Both drivers answer raw SQL with `{ rows }`.
  const { rows } = (await db.execute(
    sql`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NULL AND task_identifier ${task}`,
  )) as unknown as { rows: { n: number }[] };
  return Number(rows[0]?.n ?? 0);
}

/**
 * Removes the generation jobs of answers that ended without their worker (lease expired: it
 * died): graphile-worker keeps a dead worker's job locked for 4 hours, and its own
 * `remove_job()` spares locked jobs, so the row is deleted from its jobs table here. Safe
 * against a worker that only stalled: its answer is already final, and graphile's completion
 * of a job that is gone does nothing.
 */
export async function removeGenerationJobs(
  db: Database,
  messageIds: readonly string[],
): Promise<number> {
  if (messageIds.length === 0) return 0;
  const { rows } = (await db.execute(
    sql`DELETE FROM graphile_worker._private_jobs WHERE key = ANY(${`{${messageIds.join(",")}}`}::text[]) RETURNING id`,
  )) as unknown as { rows: unknown[] };
  return rows.length;
}

/**
 * How long a claimed job waited, ms: its lock time minus its due time, both set by the
 * database's `now()` (graphile's default; we never pass `useNodeTime`), so a worker whose
 * clock is off still measures right. A job without a lock time (none is handed out so) is 0.
 */
export function claimWaitMs(job: { run_at: Date; locked_at: Date | null }): number {
  if (!job.locked_at) return 0;
  return Math.max(0, job.locked_at.getTime() - job.run_at.getTime());
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
  /** `waitedMs`: from when the job was added (or due) to its claim (claimWaitMs). */
  handle: (job: GenerationJob, waitedMs: number) => Promise<void>;
  logger?: PadtLogger;
}): Promise<QueueConsumer> {
  const runner = await run({
    connectionString: options.url,
    concurrency: Math.max(1, options.concurrency),
    noHandleSignals: true,
    pollInterval: 2000,
    logger: quiet(options.logger),
    taskList: {
      [generationTask(options.model)]: (payload, helpers) =>
        options.handle(payload as GenerationJob, claimWaitMs(helpers.job)),
    },
  });
  return { stop: () => runner.stop() };
}
