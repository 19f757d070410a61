import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { renewLeases } from "../db/repos/leases.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";
import { Admission } from "./admission.js";
import { drainRunning } from "./drain.js";
import { executeJob } from "./execute.js";
import type { Generations, Serving } from "./generations.js";
import type { GenerationJob, Reservation, Running, StopReason } from "./job.js";
import { LeaseKeeper } from "./lease_keeper.js";
import { WatchAnnouncer, WatcherCounts } from "./presence.js";
import type { Requester } from "./retry_hint.js";
import { updateGauges } from "./run_metrics.js";
import { RunQueue } from "./run_queue.js";
import { cancelElsewhere } from "./stop_elsewhere.js";

export type { GenerationJob, Reservation, StopReason } from "./job.js";

export interface RunnerOptions {
  db: Database;
  engine: EngineClient;
  tasks: TaskRegistry;
  bus: Bus;
  limits: Pick<Limits, "generationsPerOwner" | "queueLength">;
  /** How long a generation goes on after its last messageEvents subscriber left, ms. */
  cancelGraceMs: number;
  metrics?: Metrics;
  logger?: Logger;
  /**
   * On a shared PostgreSQL: every message this runner holds (queued here or generating)
   * carries a lease of this many ms, renewed while held, so other replicas' recovery leaves
   * it alone; unset (embedded PGlite, one process): no leases.
   */
  leaseMs?: number;
  /**
   * How often this replica re-announces the answers its subscribers watch (presence.ts); a
   * replica silent for three of these counts as gone. Default 5000.
   */
  presenceHeartbeatMs?: number;
  /**
   * Answers still running when a drain's window ends are handed to this instead of ending
   * CANCELLED: the lease sweep's recovery ends them at once as it ends a dead worker's
   * (lease_sweep.ts, docs/decisions.md 8). Set by `padt worker`.
   */
  handBack?: (messageId: string) => Promise<unknown>;
}

/**
 * Runs generations through the EngineClient and persists them; each job in its own module:
 * admission (admission.ts: refusals before anything is written, with retry hints), the
 * queue for engine workers (run_queue.ts), one generation (execute.ts), abandonment grace
 * (grace.ts), metrics (run_metrics.ts) and shutdown (drain.ts).
 *
 * What is admitted waits in this runner's queue and is handed to the engine only when one of
 * its workers is free, so it completes (or fails for its own reasons): it is never refused
 * later for room. Should the engine still be busy with another client's work at that moment,
 * the job keeps its place and tries again shortly.
 */
export class GenerationRunner implements Generations {
  readonly #running = new Map<string, Running>();
  readonly #queue: RunQueue;
  readonly #admission: Admission;
  readonly #leases: LeaseKeeper | undefined;
  readonly #announcer: WatchAnnouncer;
  readonly #watchers: WatcherCounts;

  constructor(private readonly options: RunnerOptions) {
    const heartbeatMs = options.presenceHeartbeatMs ?? 5000;
    this.#announcer = new WatchAnnouncer(options.bus, heartbeatMs);
    this.#watchers = new WatcherCounts(options.bus, options.cancelGraceMs, heartbeatMs * 3);
    this.#leases = options.leaseMs
      ? new LeaseKeeper(options.db, options.leaseMs, options.logger, options.metrics?.leaseRenewals)
      : undefined;
    // Each engine worker runs up to its batch of answers at once (their decode steps batched).
    this.#queue = new RunQueue(() => options.engine.stats().slots);
    this.#admission = new Admission({
      limits: options.limits,
      running: this.#running,
      workers: () => options.engine.stats().slots,
      changed: () => this.#updateGauges(),
    });
  }

  /** This process: its engine's workers, and the answers on them. */
  async serving(): Promise<Serving> {
    return {
      workers: 1,
      capacity: this.options.engine.stats().slots,
      inFlight: [...this.#running.values()].filter((r) => r.slot).length,
      executionProviders: [this.options.engine.info.executionProvider],
    };
  }

  get active(): number {
    return this.#admission.held;
  }

  isRunning(messageId: string): boolean {
    return this.#running.has(messageId);
  }

  /** Takes a place in the queue for the next answer of a session, or throws a typed error. */
  reserve(who: Requester): Reservation {
    return this.#admission.reserve(who);
  }

  release(reservation: Reservation): void {
    this.#admission.release(reservation);
  }

  #updateGauges(): void {
    updateGauges(this.options.metrics, this.#running.values(), this.#admission.held);
  }

  /** In the exchange's transaction: the pending answer gets its lease (see RunnerOptions). */
  async enqueue(tx: Database, job: GenerationJob): Promise<void> {
    if (this.#leases) await renewLeases(tx, [job.messageId], this.#leases.leaseMs);
  }

  /** Starts the job on its reservation; it runs in the background and never throws here. */
  start(reservation: Reservation, job: GenerationJob): void {
    this.#admission.started(reservation);
    this.#launch(job, () => this.release(reservation));
  }

  /**
   * Runs a job handed over by the durable queue (`padt worker`): admission happened where it
   * was enqueued. Resolves once its message is final; never rejects.
   */
  runQueued(job: GenerationJob): Promise<void> {
    // No reservation to release here: the gauges are updated directly once it ended.
    return this.#launch(job, () => this.#updateGauges());
  }

  #launch(job: GenerationJob, onDone: () => void): Promise<void> {
    const controller = new AbortController();
    const running: Running = { job, controller, subscribers: 0, done: Promise.resolve() };
    this.#running.set(job.messageId, running);
    this.#updateGauges();
    const { db, engine, tasks, bus, metrics, logger, leaseMs, handBack } = this.options;
    // Stopped through another replica: its cancel reaches us as a stop signal, or (missed)
    // as a lease renewal that finds the message already final.
    const offStop = bus.stops.on(job.messageId, (reason) => controller.abort(reason));
    this.#leases?.hold(job.messageId, () => controller.abort("cancelled"));
    this.#watchers.track(running);
    running.done = executeJob(
      {
        db,
        engine,
        tasks,
        bus,
        ...(metrics ? { metrics } : {}),
        ...(logger ? { logger } : {}),
        acquire: (signal) => this.#queue.acquire(signal),
        onSlot: () => this.#updateGauges(),
        ...(leaseMs ? { leaseMs } : {}),
        ...(handBack ? { handBack } : {}),
      },
      running,
    )
      .catch((error) =>
        logger?.error({ err: error, messageId: job.messageId }, "generation failed"),
      )
      .finally(() => {
        offStop();
        this.#leases?.release(job.messageId);
        this.#watchers.untrack(job.messageId);
        clearTimeout(running.graceTimer);
        if (running.slot) {
          this.#admission.observeService(performance.now() - running.slot.since);
          running.slot.release();
        }
        this.#running.delete(job.messageId);
        onDone();
      });
    return running.done;
  }

  /**
   * Stops a generation. One running here is aborted and ends CANCELLED with what it had
   * produced; one that is unfinished but not running here (on another replica, or its
   * process died) is ended CANCELLED with its streamed parts and its runner told to stop
   * (stop_elsewhere.ts). Resolves once the message is final.
   */
  async cancel(
    ownerId: string,
    messageId: string,
    reason: StopReason = "cancelled",
  ): Promise<void> {
    const running = this.#running.get(messageId);
    if (running && running.job.ownerId === ownerId) {
      running.controller.abort(reason);
      await running.done;
      return;
    }
    await cancelElsewhere(this.options.db, this.options.bus, ownerId, messageId);
  }

  /** Stops every generation of a session (before it is deleted). */
  async cancelSession(ownerId: string, sessionId: string): Promise<void> {
    const jobs = [...this.#running.values()].filter(
      (r) => r.job.ownerId === ownerId && r.job.sessionId === sessionId,
    );
    await Promise.all(jobs.map((r) => this.cancel(ownerId, r.job.messageId)));
  }

  /** A messageEvents subscriber started following `messageId`. */
  subscriberJoined(messageId: string): void {
    this.#announcer.joined(messageId);
  }

  /**
   * A subscriber left; when it was the last on every replica, the generation stops after the
   * grace period, wherever it runs (presence.ts counts replicas watching through the bus).
   */
  subscriberLeft(messageId: string): void {
    this.#announcer.left(messageId);
  }

  /**
   * Shutdown: refuses new work at once, lets running generations finish within `drainMs`,
   * then aborts the rest: they end CANCELLED with their partial content (never COMPLETE), or,
   * with `handBack`, as that recovery ends them (INTERRUPTED with their partial content).
   */
  async drain(drainMs: number): Promise<void> {
    this.#admission.stopAccepting();
    await drainRunning(this.#running, drainMs);
    this.#leases?.stop();
    this.#announcer.stop();
    this.#watchers.stop();
  }
}
