import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { workers } from "../db/schema.js";
import { ServiceTime } from "../generation/retry_hint.js";
import type { Logger } from "../server/logger.js";

/**
 * Worker capacity advertisement (docs/decisions.md, 11): each `padt worker` keeps one row of
 * `workers` up to date (registered at start, updated when it claims and finishes an answer and
 * on a heartbeat, deleted when it stops), and gateway replicas read the live rows. Our own
 * table, not graphile-worker's state: graphile keeps no record of its workers, only the locks
 * on the jobs they hold, which say nothing about a worker that holds none.
 */

/** A worker is live while its heartbeat is at most this old (the caller's lease, ms). */
const liveSince = (leaseMs: number) =>
  sql`now() - ${Math.max(1, Math.round(leaseMs))} * interval '1 millisecond'`;

/** What a worker tells the others about itself. */
export interface WorkerAdvert {
  model: string;
  /** Answers it runs at once: engine workers x answers each batches (the engine's slots). */
  capacity: number;
  executionProvider: string;
}

/** The worker's side: its row, kept current. */
export class AdvertisedWorker {
  readonly id = randomUUID();
  readonly #service = new ServiceTime();
  #completed = 0;
  readonly #timer: NodeJS.Timeout;
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Database,
    readonly advert: WorkerAdvert,
    heartbeatMs: number,
    private readonly logger?: Logger,
  ) {
    this.#timer = setInterval(() => this.#write(this.#beat()), Math.max(50, heartbeatMs));
    this.#timer.unref();
  }

  /** Inserts the row; rows of workers silent for `forgetMs` (they died) are deleted meanwhile. */
  static async register(
    db: Database,
    advert: WorkerAdvert,
    options: { heartbeatMs: number; forgetMs: number; logger?: Logger },
  ): Promise<AdvertisedWorker> {
    const worker = new AdvertisedWorker(db, advert, options.heartbeatMs, options.logger);
    await db.delete(workers).where(sql`${workers.heartbeatAt} < ${liveSince(options.forgetMs)}`);
    await db.insert(workers).values({ id: worker.id, ...advert });
    return worker;
  }

  /** The answer `messageId` was claimed: it counts in flight from the database's now. */
  claimed(messageId: string): void {
    this.#write(
      this.db
        .update(workers)
        .set({
          running: sql`${workers.running} || jsonb_build_object(${messageId}::text, (extract(epoch FROM now()) * 1000)::float8)`,
          heartbeatAt: sql`now()`,
        })
        .where(eq(workers.id, this.id)),
    );
  }

  /** The answer ended after `serviceMs` on this worker (claim to finish). */
  finished(messageId: string, serviceMs: number): void {
    this.#service.observe(serviceMs);
    this.#completed += 1;
    this.#write(
      this.db
        .update(workers)
        .set({
          running: sql`${workers.running} - ${messageId}::text`,
          serviceMs: this.#service.estimateMs(),
          completed: this.#completed,
          heartbeatAt: sql`now()`,
        })
        .where(eq(workers.id, this.id)),
    );
  }

  /** Stops the heartbeat and deletes the row: gateways stop counting this worker at once. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#writes;
    await this.db.delete(workers).where(eq(workers.id, this.id));
  }

  #beat() {
    return this.db.update(workers).set({ heartbeatAt: sql`now()` }).where(eq(workers.id, this.id));
  }

  /** Writes in order (a finish never overtakes its claim); a failed one is logged, not thrown. */
  #write(write: PromiseLike<unknown>): void {
    this.#writes = this.#writes
      .then(() => write)
      .catch((error) => this.logger?.warn({ err: error }, "worker advertisement failed"));
  }
}

/** The live workers' advertisement for one model, summed (what a gateway admits against). */
export interface ModelCapacity {
  model: string;
  /** Live workers serving it. */
  workers: number;
  capacity: number;
  inFlight: number;
  /** Elapsed ms of each answer in service on them, by message id (database clock). */
  inService: Map<string, number>;
  /** Capacity-weighted mean of the workers' measured service times; null before any finished. */
  serviceMs: number | null;
  /** Answers they finished since they started. */
  completed: number;
  /** The execution providers they run on, sorted, once each. */
  executionProviders: string[];
}

/** The live workers of `model` (heartbeat within `leaseMs`), read on `db` (a transaction too). */
export async function modelCapacity(
  db: Database,
  model: string,
  leaseMs: number,
): Promise<ModelCapacity> {
  const rows = await db
    .select({
      capacity: workers.capacity,
      executionProvider: workers.executionProvider,
      serviceMs: workers.serviceMs,
      completed: workers.completed,
      running: workers.running,
      nowMs: sql<number>`(extract(epoch FROM now()) * 1000)::float8`,
    })
    .from(workers)
    .where(and(eq(workers.model, model), sql`${workers.heartbeatAt} >= ${liveSince(leaseMs)}`));
  const inService = new Map<string, number>();
  let weighted = 0;
  let weight = 0;
  for (const row of rows) {
    for (const [id, at] of Object.entries(row.running))
      inService.set(id, Math.max(0, row.nowMs - at));
    if (row.serviceMs !== null) {
      weighted += row.serviceMs * row.capacity;
      weight += row.capacity;
    }
  }
  return {
    model,
    workers: rows.length,
    capacity: rows.reduce((n, r) => n + r.capacity, 0),
    inFlight: inService.size,
    inService,
    serviceMs: weight > 0 ? weighted / weight : null,
    completed: rows.reduce((n, r) => n + r.completed, 0),
    executionProviders: [...new Set(rows.map((r) => r.executionProvider))].sort(),
  };
}
