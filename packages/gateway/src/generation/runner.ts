import {
  type EngineClient,
  type GenerateOptions,
  type GenerationEvent,
  isPadtError,
  PadtError,
  PadtErrorCode,
  type TaskOutcome,
  type TaskRegistry,
} from "@padt/engine";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import { loadHistory } from "../conversation/history.js";
import { buildConversation } from "../conversation/turns.js";
import type { Database } from "../db/database.js";
import { isDbError } from "../db/errors.js";
import { getMessage } from "../db/repos/messages.js";
import { finishMessage, markStreaming, type Outcome } from "../db/repos/transitions.js";
import type { StoredGenerationOptions } from "../db/schema.js";
import { classify, GatewayErrorCode, gatewayError } from "../errors.js";
import type { Logger } from "../server/logger.js";
import type { Metrics } from "../server/metrics.js";
import { AnswerBuilder } from "./answer.js";
import { ownerRetryAfterMs, type QueueSnapshot, RetryLine, ServiceTime } from "./retry_hint.js";
import { RunQueue, type Slot } from "./run_queue.js";
import { EventWriter } from "./writer.js";

export interface GenerationJob {
  ownerId: string;
  sessionId: string;
  /** The assistant message to fill. */
  messageId: string;
  task: string | null;
  taskInput: unknown;
  options: StoredGenerationOptions | null;
}

/** Why a running generation was stopped. */
export type StopReason = "cancelled" | "abandoned" | "shutdown";

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

/** A place in the run queue, held from before sendMessage writes until the job starts. */
export interface Reservation {
  readonly ownerId: string;
  released: boolean;
}

interface Running {
  job: GenerationJob;
  controller: AbortController;
  done: Promise<void>;
  subscribers: number;
  graceTimer?: NodeJS.Timeout;
  /** Set while the job holds one of the engine's workers; unset while it waits in the queue. */
  slot?: Slot;
}

/** Backoff while the engine is busy with work from another of its clients. */
const ENGINE_RETRY_MS = { first: 25, max: 1000 };

/**
 * Runs generations through the EngineClient and persists them.
 *
 * Admission (`reserve`) happens before sendMessage writes anything, so a refusal leaves no
 * rows: SHUTTING_DOWN while draining, TOO_MANY_GENERATIONS past the per-owner limit,
 * QUEUE_FULL when this process already holds `queueLength` generations; both with a
 * `retryAfterMs` from the measured service time and the queue (retry_hint.ts). What is
 * admitted waits in this runner's queue (run_queue.ts) and is handed to the engine only when
 * one of its workers is free, so it completes (or fails for its own reasons): it is never
 * refused later for room. Should the engine still be busy with another client's work at that
 * moment, the job keeps its place and tries again shortly.
 */
export class GenerationRunner {
  readonly #running = new Map<string, Running>();
  readonly #perOwner = new Map<string, number>();
  /** Admitted but not started yet (sendMessage is writing the rows). */
  readonly #reserved = new Set<Reservation>();
  readonly #queue: RunQueue;
  readonly #service = new ServiceTime();
  /** Clients refused because the queue was full, in the order they are promised places. */
  readonly #line = new RetryLine();
  #held = 0;
  #accepting = true;

  constructor(private readonly options: RunnerOptions) {
    this.#queue = new RunQueue(() => options.engine.stats().workers);
  }

  get active(): number {
    return this.#held;
  }

  isRunning(messageId: string): boolean {
    return this.#running.has(messageId);
  }

  /** Takes a place in the queue for one generation of `ownerId`, or throws a typed error. */
  reserve(ownerId: string): Reservation {
    if (!this.#accepting)
      throw gatewayError(
        GatewayErrorCode.SHUTTING_DOWN,
        "The server is shutting down; retry on another instance",
      );
    const mine = this.#perOwner.get(ownerId) ?? 0;
    const { generationsPerOwner, queueLength } = this.options.limits;
    if (mine >= generationsPerOwner) {
      throw gatewayError(
        GatewayErrorCode.TOO_MANY_GENERATIONS,
        `At most ${generationsPerOwner} generations per owner may be queued or running`,
        { max: generationsPerOwner, retryAfterMs: ownerRetryAfterMs(this.#snapshot(), ownerId) },
      );
    }
    const queue = this.#snapshot();
    // Free places may be kept for clients refused earlier, whose turn it is (retry_hint.ts).
    if (!this.#line.admits(ownerId, queueLength - this.#held, queue)) {
      throw new PadtError(PadtErrorCode.QUEUE_FULL, "The generation queue is full; retry later", {
        retryAfterMs: this.#line.refuse(ownerId, queue),
      });
    }
    this.#line.admitted(ownerId, queue);
    this.#perOwner.set(ownerId, mine + 1);
    this.#held += 1;
    const reservation = { ownerId, released: false };
    this.#reserved.add(reservation);
    this.#updateGauges();
    return reservation;
  }

  release(reservation: Reservation): void {
    this.#reserved.delete(reservation);
    if (reservation.released) return;
    reservation.released = true;
    const n = (this.#perOwner.get(reservation.ownerId) ?? 1) - 1;
    if (n <= 0) this.#perOwner.delete(reservation.ownerId);
    else this.#perOwner.set(reservation.ownerId, n);
    this.#held -= 1;
    this.#updateGauges();
  }

  /** The queue as the retry hints see it: jobs in service, then waiting ones in order. */
  #snapshot(): QueueSnapshot {
    const now = performance.now();
    const all = [...this.#running.values()];
    const serving = all.filter((r) => r.slot);
    const inService = serving.map((r) => now - (r.slot as Slot).since);
    return {
      inService,
      inServiceOwners: serving.map((r) => r.job.ownerId),
      waiting: [
        ...all.filter((r) => !r.slot).map((r) => r.job.ownerId),
        ...[...this.#reserved].map((r) => r.ownerId),
      ],
      workers: Math.max(1, this.options.engine.stats().workers),
      meanMs: this.#service.estimateMs(inService),
    };
  }

  #updateGauges(): void {
    const { metrics } = this.options;
    if (!metrics) return;
    const serving = [...this.#running.values()].filter((r) => r.slot).length;
    metrics.running.set(serving);
    metrics.queueDepth.set(Math.max(0, this.#held - serving));
  }

  /** Starts the job on its reservation; it runs in the background and never throws here. */
  start(reservation: Reservation, job: GenerationJob): void {
    this.#reserved.delete(reservation);
    const controller = new AbortController();
    const running: Running = { job, controller, subscribers: 0, done: Promise.resolve() };
    this.#running.set(job.messageId, running);
    this.#updateGauges();
    running.done = this.#run(running)
      .catch((error) =>
        this.options.logger?.error({ err: error, messageId: job.messageId }, "generation failed"),
      )
      .finally(() => {
        clearTimeout(running.graceTimer);
        if (running.slot) {
          this.#service.observe(performance.now() - running.slot.since);
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
    if (!running) return;
    running.subscribers += 1;
    clearTimeout(running.graceTimer);
    running.graceTimer = undefined;
  }

  /** A subscriber left; when it was the last, the generation stops after the grace period. */
  subscriberLeft(messageId: string): void {
    const running = this.#running.get(messageId);
    if (!running) return;
    running.subscribers = Math.max(0, running.subscribers - 1);
    if (running.subscribers > 0) return;
    clearTimeout(running.graceTimer);
    running.graceTimer = setTimeout(() => {
      if (running.subscribers === 0) running.controller.abort("abandoned");
    }, this.options.cancelGraceMs);
    running.graceTimer.unref();
  }

  /**
   * Shutdown: refuses new work at once, lets running generations finish within `drainMs`,
   * then aborts the rest (they end CANCELLED with their partial content, never COMPLETE).
   */
  async drain(drainMs: number): Promise<void> {
    this.#accepting = false;
    const all = () => Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainMs);
    });
    const outcome = await Promise.race([all().then(() => "done" as const), timeUp]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      for (const r of this.#running.values()) r.controller.abort("shutdown");
      await all();
    }
  }

  #publishFinal(ownerId: string, messageId: string): void {
    void getMessage(this.options.db, ownerId, messageId).then((m) => {
      if (!m) return;
      this.options.bus.messages.publish(messageId, m.lastSeq);
      this.options.bus.sessions.publish(m.sessionId, { type: "message_status_changed", messageId });
    });
  }

  async #run(running: Running): Promise<void> {
    const { db, tasks, bus, metrics } = this.options;
    const { job, controller } = running;
    const { ownerId, messageId } = job;
    const signal = controller.signal;
    const started = performance.now();
    let firstEvent = true;
    const writer = new EventWriter(db, ownerId, messageId, (seq) => {
      if (firstEvent) {
        firstEvent = false;
        metrics?.timeToFirstEvent.observe((performance.now() - started) / 1000);
      }
      bus.messages.publish(messageId, seq);
    });
    let answer = new AnswerBuilder([]);
    let outcome: Outcome;
    try {
      running.slot = await this.#queue.acquire(signal);
      this.#updateGauges();
      await markStreaming(db, ownerId, messageId);
      bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
      const history = await loadHistory(db, ownerId, job.sessionId);
      const conversation = await buildConversation(db, ownerId, history, tasks);
      answer = new AnswerBuilder(conversation.imageIds);
      if (signal.aborted) throw new PadtError(PadtErrorCode.GENERATION_CANCELLED, "cancelled");
      // A long session keeps its most recent turns that fit the context (the engine counts).
      const events = await this.#handOff(conversation.turns, {
        ...job.options,
        trimHistory: true,
        signal,
      });
      for await (const event of untilAborted(events, signal)) {
        const touched = answer.add(event);
        if (event.type === "text") writer.text(event.text);
        else if (event.type === "vrt" && touched.object)
          writer.refStarted(answer.ref(touched.object));
        else if (event.type === "object" && touched.object)
          writer.refDecoded(answer.ref(touched.object));
        if (writer.error) throw writer.error;
      }
      await writer.flush();
      if (writer.error) throw writer.error;
      outcome =
        signal.aborted || answer.finishReason === "cancelled"
          ? { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null }
          : this.#complete(job, answer);
    } catch (error) {
      await writer.flush();
      // A DbError from the message itself (finished elsewhere, session deleted) makes
      // finishMessage below refuse too, and nothing is written.
      if (signal.aborted || isPadtError(error, PadtErrorCode.GENERATION_CANCELLED)) {
        outcome = { status: "cancelled", parts: answer.parts(), usage: answer.usage ?? null };
      } else {
        const known = classify(error);
        const code = known?.code ?? GatewayErrorCode.INTERNAL_SERVER_ERROR;
        const message = known?.message ?? "The generation failed";
        if (!known) this.options.logger?.error({ err: error, messageId }, "generation error");
        outcome = {
          status: "failed",
          error: { code, message },
          parts: answer.parts(),
          usage: answer.usage ?? null,
        };
      }
    }
    if (answer.trimmed) {
      const { droppedTurns, droppedImages, droppedRefs } = answer.trimmed;
      // One turn per history message (conversation/turns.ts).
      outcome.metadata = {
        historyTrim: { droppedMessages: droppedTurns, droppedImages, droppedRefs },
      };
    }
    try {
      const { message } = await finishMessage(db, ownerId, messageId, outcome);
      bus.messages.publish(messageId, message.lastSeq);
      bus.sessions.publish(job.sessionId, { type: "message_status_changed", messageId });
    } catch (error) {
      if (!isDbError(error)) throw error;
    }
    metrics?.generations.inc({ status: outcome.status });
    const usage = answer.usage;
    if (metrics && usage) {
      metrics.generatedTokens.inc(usage.completionTokens);
      if (usage.decodeMs > 0)
        metrics.decodeTokensPerSecond.observe((usage.completionTokens * 1000) / usage.decodeMs);
    }
  }

  /**
   * Gives the job to the engine. Its worker was free when the slot was granted, but another
   * client of the same engine may have taken it: then wait and try again, keeping the place.
   */
  async #handOff(
    turns: Parameters<EngineClient["generate"]>[0],
    options: GenerateOptions,
  ): Promise<AsyncIterable<GenerationEvent>> {
    for (let wait = ENGINE_RETRY_MS.first; ; wait = Math.min(ENGINE_RETRY_MS.max, 2 * wait)) {
      try {
        return this.options.engine.generate(turns, options);
      } catch (error) {
        if (!isPadtError(error, PadtErrorCode.QUEUE_FULL)) throw error;
      }
      await sleep(wait, options.signal);
    }
  }

  /** The plugin's reading of a finished answer; free chat stores no result (TextResult is derived). */
  #complete(job: GenerationJob, answer: AnswerBuilder): Outcome {
    const generation = answer.result();
    let result: TaskOutcome<unknown> | null = null;
    if (job.task) {
      const plugin = this.options.tasks.get(job.task);
      const input = plugin.input.parse(job.taskInput);
      result = plugin.parse(generation, input);
    }
    return { status: "complete", parts: answer.parts(), result, usage: generation.usage };
  }
}

/**
 * The engine's events until it ends or `signal` aborts, whichever comes first: an engine that
 * is slow to notice the abort does not hold the generation (its iterator is returned).
 */
async function* untilAborted<T>(events: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = events[Symbol.asyncIterator]();
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal.aborted) resolve("aborted");
    else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  try {
    while (true) {
      const next = iterator.next();
      const r = await Promise.race([next, aborted]);
      if (r === "aborted") {
        next.catch(() => {});
        throw new PadtError(PadtErrorCode.GENERATION_CANCELLED, "The generation was cancelled");
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}
