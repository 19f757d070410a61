import type { EventPayloads, RefPayload } from "../conversation/events.js";
import type { Database } from "../db/database.js";
import { appendEvent } from "../db/repos/events.js";
import type { Traced } from "./trace.js";

type Item =
  | { type: "text_delta"; text: string }
  | { type: "visual_ref_started" | "visual_ref_decoded"; ref: RefPayload };

/**
 * Persists a running generation's stream events, one at a time and in order, each under the
 * next gap-free seq, and calls `onWritten(seq)` after each commit (the subscribers' wake-up).
 *
 * Coalescing: while one event is being written, what arrives queues; consecutive text
 * deltas merge into one event, and further patches of an object whose `visual_ref_started`
 * is still queued update that event instead of adding one. So a fast model costs one insert
 * per database round trip rather than one per token, and a slow one streams every token.
 */
export class EventWriter {
  readonly #queue: Item[] = [];
  #running: Promise<void> | undefined;
  #error: unknown;

  constructor(
    private readonly db: Database,
    private readonly ownerId: string,
    private readonly messageId: string,
    private readonly onWritten: (seq: number) => void,
    /** Each database write runs inside it (a span of the answer's trace). */
    private readonly traced: Traced = (_, run) => run(),
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
    while (this.#running) await this.#running;
  }

  #push(item: Item): void {
    if (this.#error) return;
    this.#queue.push(item);
    // #drain clears #running in the same tick as it finds the queue empty, so an item pushed
    // later always starts a new drain.
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        const { type, ...payload } = item;
        const row = await this.traced("padt.db.append_event", () =>
          appendEvent(this.db, this.ownerId, this.messageId, {
            type,
            payload: payload satisfies EventPayloads[typeof type],
          }),
        );
        this.onWritten(row.seq);
      }
    } catch (error) {
      this.#error = error;
      this.#queue.length = 0;
    } finally {
      this.#running = undefined;
    }
  }
}
