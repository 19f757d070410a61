import type { EventPayloads, RefPayload } from "../conversation/events.js";
import type { Database } from "../db/database.js";
import { appendEvents, type EventInput } from "../db/repos/events.js";
import type { Traced } from "./trace.js";

type Item =
  | { type: "text_delta"; text: string }
  | { type: "visual_ref_started" | "visual_ref_decoded"; ref: RefPayload };

function asEvent({ type, ...payload }: Item): EventInput {
  return { type, payload: payload satisfies EventPayloads[typeof type] };
}

/** At most this many events go into one statement (bounds a statement's size). */
const MAX_BATCH = 64;
/**
 * The shortest time from one write's start to the next one's, ms: a fast model's tokens
 * gather into one statement per interval, a slow one's (a token per interval or slower) go
 * out one by one as soon as they come.
 */
export const WRITE_INTERVAL_MS = 8;

/**
 * Persists a running generation's stream events in order, each under the next gap-free seq,
 * and calls `onWritten(lastSeq)` after each commit (the subscribers' wake-up: they catch up
 * from the table by seq, so one wake-up per batch is enough).
 *
 * Batching: the first event is written at once (with whatever arrives in the same event-loop
 * turn); after that, what arrives within `intervalMs` of the previous write's start (or while
 * it is in flight) queues, and the queue is written as one multi-row statement: one round
 * trip and one wake-up per batch rather than per event. `flush()` writes what is queued at
 * once. While queued, consecutive text deltas
 * merge into one event, and further patches of an object whose `visual_ref_started` is still
 * queued update that event instead of adding one. So a fast model costs one statement per
 * database round trip, and a slow one streams every token.
 */
export class EventWriter {
  readonly #queue: Item[] = [];
  #running: Promise<void> | undefined;
  #error: unknown;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #flushing = false;
  #paused = false;
  /** Ends the wait for the next write early (flush). */
  #cutWait: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly ownerId: string,
    private readonly messageId: string,
    private readonly onWritten: (seq: number) => void,
    /** Each database write runs inside it (a span of the answer's trace). */
    private readonly traced: Traced = (_, run) => run(),
    private readonly intervalMs = WRITE_INTERVAL_MS,
  ) {}

  /** The first write error (the message was finished or deleted meanwhile), if any. */
  get error(): unknown {
    return this.#error;
  }

  text(text: string): void {
    if (!text) return;
    const last = this.#queue.at(-1);
    if (last?.type === "text_delta") last.text += text;
    else this.#push({ type: "text_delta", text });
  }

  refStarted(ref: RefPayload): void {
    const last = this.#queue.at(-1);
    if (last?.type === "visual_ref_started" && last.ref.index === ref.index) last.ref = ref;
    else this.#push({ type: "visual_ref_started", ref });
  }

  refDecoded(ref: RefPayload): void {
    this.#push({ type: "visual_ref_decoded", ref });
  }

  /** Resolves once everything queued so far is written (or writing has failed). */
  async flush(): Promise<void> {
    this.#flushing = true;
    this.#cutWait?.();
    if (this.#paused) {
      this.#paused = false;
      if (this.#queue.length > 0) this.#running ??= this.#drain();
    }
    try {
      while (this.#running) await this.#running;
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * The answer has ended: stops writing once the write in flight (if any) is done, and keeps
   * what is still queued for `takeQueued()`, to be stored with the answer's end in one
   * statement (finishMessage) instead of a write of its own first. `flush()` still writes it.
   */
  async pause(): Promise<void> {
    this.#paused = true;
    this.#cutWait?.();
    while (this.#running) await this.#running;
  }

  /** What is queued and not written (after `pause()`), as events in order; the queue empties. */
  takeQueued(): EventInput[] {
    return this.#queue.splice(0).map(asEvent);
  }

  #push(item: Item): void {
    if (this.#error) return;
    this.#queue.push(item);
    // #drain clears #running in the same tick as it finds the queue empty, so an item pushed
    // later always starts a new drain.
    if (!this.#paused) this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#nextWriteDue();
        if (this.#paused) break;
        this.#lastWriteAt = performance.now();
        const batch = this.#queue.splice(0, MAX_BATCH).map(asEvent);
        const rows = await this.traced("padt.db.append_event", () =>
          appendEvents(this.db, this.ownerId, this.messageId, batch),
        );
        this.onWritten(rows.at(-1)!.seq);
      }
    } catch (error) {
      this.#error = error;
      this.#queue.length = 0;
    } finally {
      this.#running = undefined;
    }
  }

  /** Waits for the end of this event-loop turn, then for `intervalMs` since the last write. */
  async #nextWriteDue(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const wait = this.#lastWriteAt + this.intervalMs - performance.now();
    if (wait <= 0 || this.#flushing || this.#paused) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.#cutWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#cutWait = undefined;
  }
}
