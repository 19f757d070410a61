import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { isDbError } from "../db/errors.js";
import { getMessage } from "../db/repos/messages.js";
import { finishMessage } from "../db/repos/transitions.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";
import { Admission } from "./admission.js";
import { drainRunning } from "./drain.js";
import { executeJob } from "./execute.js";
import { subscriberJoined, subscriberLeft } from "./grace.js";
import type { GenerationJob, Reservation, Running, StopReason } from "./job.js";
import { updateGauges } from "./run_metrics.js";
import { RunQueue } from "./run_queue.js";

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
export class GenerationRunner {
  readonly #running = new Map<string, Running>();
  readonly #queue: RunQueue;
  readonly #admission: Admission;

  constructor(private readonly options: RunnerOptions) {
    this.#queue = new RunQueue(() => options.engine.stats().workers);
    this.#admission = new Admission({
      limits: options.limits,
      running: this.#running,
      workers: () => options.engine.stats().workers,
      changed: () => this.#updateGauges(),
    });
  }

  get active(): number {
    return this.#admission.held;
  }

  isRunning(messageId: string): boolean {
    return this.#running.has(messageId);
  }

  /** Takes a place in the queue for one generation of `ownerId`, or throws a typed error. */
  reserve(ownerId: string): Reservation {
    return this.#admission.reserve(ownerId);
  }

  release(reservation: Reservation): void {
    this.#admission.release(reservation);
  }

  #updateGauges(): void {
    updateGauges(this.options.metrics, this.#running.values(), this.#admission.held);
  }

  /** Starts the job on its reservation; it runs in the background and never throws here. */
  start(reservation: Reservation, job: GenerationJob): void {
    this.#admission.started(reservation);
    const controller = new AbortController();
    const running: Running = { job, controller, subscribers: 0, done: Promise.resolve() };
    this.#running.set(job.messageId, running);
    this.#updateGauges();
    const { db, engine, tasks, bus, metrics, logger } = this.options;
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
      },
      running,
    )
      .catch((error) =>
        logger?.error({ err: error, messageId: job.messageId }, "generation failed"),
      )
      .finally(() => {
        clearTimeout(running.graceTimer);
        if (running.slot) {
          this.#admission.observeService(performance.now() - running.slot.since);
          running.slot.release();
        }
        this.#running.delete(job.messageId);
        this.release(reservation);
      });
  }

  /**
   * Stops a generation. One running here is aborted and ends CANCELLED with what it had
   * produced; one that is unfinished but not running here (its process died) is marked
   * CANCELLED directly. Resolves once the message is final.
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
    try {
      await finishMessage(this.options.db, ownerId, messageId, { status: "cancelled" });
      this.#publishFinal(ownerId, messageId);
    } catch (error) {
      // Already final (INVALID_STATE) is fine: cancelling twice is not an error.
      if (!isDbError(error, "INVALID_STATE")) throw error;
    }
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
    const running = this.#running.get(messageId);
    if (running) subscriberJoined(running);
  }

  /** A subscriber left; when it was the last, the generation stops after the grace period. */
  subscriberLeft(messageId: string): void {
    const running = this.#running.get(messageId);
    if (running) subscriberLeft(running, this.options.cancelGraceMs);
  }

  /**
   * Shutdown: refuses new work at once, lets running generations finish within `drainMs`,
   * then aborts the rest (they end CANCELLED with their partial content, never COMPLETE).
   */
  async drain(drainMs: number): Promise<void> {
    this.#admission.stopAccepting();
    await drainRunning(this.#running, drainMs);
  }

  #publishFinal(ownerId: string, messageId: string): void {
    void getMessage(this.options.db, ownerId, messageId).then((m) => {
      if (!m) return;
      this.options.bus.messages.publish(messageId, m.lastSeq);
      this.options.bus.sessions.publish(m.sessionId, { type: "message_status_changed", messageId });
    });
  }
}
