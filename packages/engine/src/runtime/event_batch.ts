import type { JobEvents } from "./protocol.js";

/**
 * Least time between two event messages of a worker (ms): a stream of 0.5 ms decode steps
 * sends one message per ~4 steps; the first event after a quiet spell (a first token after its
 * prefill) goes out at once, and no event waits longer than this.
 */
export const EVENT_INTERVAL_MS = 2;

export interface EventBatchOptions {
  /**
   * Least time between two messages (ms); 0: one per turn of the loop. Events that come sooner
   * wait for the next message, so a stream of decode steps costs one message per interval
   * instead of one per step; the first event after a quiet spell goes out at once.
   */
  intervalMs?: number;
  /** Runs `flush` after `delayMs`; 0: at the loop's next turn (before the next graph run). */
  schedule?: (flush: () => void, delayMs: number) => void;
  now?: () => number;
}

/** Node's timers: setImmediate for the next turn, setTimeout for a later one. */
const loopSchedule = (flush: () => void, delayMs: number): void => {
  if (delayMs <= 0) setImmediate(flush);
  else setTimeout(flush, delayMs);
};

/**
 * Collects events and sends them as one message: a generation step emits its events (text,
 * VRT, object) synchronously between two graph runs, and onnxruntime-node starts each run from
 * setImmediate, so a flush scheduled with setImmediate at the first event goes out before the
 * next run starts: one postMessage per step instead of one per event. With `intervalMs`, one
 * per interval: each message wakes the receiving thread, and on this 2-core machine that wake
 * slowed the sender's next graph run too (the LLM step's run 0.39 ms with no message per step,
 * 0.44-0.52 ms with one, medians under `quiet`: bench/engine/step-overhead.mjs).
 */
export class EventBatch<Ev> {
  #pending: Ev[] = [];
  #scheduled = false;
  #lastSent = Number.NEGATIVE_INFINITY;
  readonly #intervalMs: number;
  readonly #schedule: (flush: () => void, delayMs: number) => void;
  readonly #now: () => number;

  constructor(
    private readonly send: (events: Ev[]) => void,
    options: EventBatchOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 0;
    this.#schedule = options.schedule ?? loopSchedule;
    this.#now = options.now ?? (() => performance.now());
  }

  push(event: Ev): void {
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    const delay = this.#lastSent + this.#intervalMs - this.#now();
    this.#schedule(() => this.flush(), Math.max(0, delay));
  }

  /** Sends what is pending now (also called before the job's end or error message). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    this.#lastSent = this.#now();
    this.send(events);
  }
}

/**
 * A worker's events of one loop turn, grouped by job in the order they came: what one
 * `events` message carries for all the jobs the worker batches.
 */
export function groupByJob<Ev>(items: readonly { id: number; event: Ev }[]): JobEvents<Ev>[] {
  const groups: JobEvents<Ev>[] = [];
  const byId = new Map<number, JobEvents<Ev>>();
  for (const { id, event } of items) {
    let group = byId.get(id);
    if (!group) {
      group = { id, events: [] };
      byId.set(id, group);
      groups.push(group);
    }
    group.events.push(event);
  }
  return groups;
}
