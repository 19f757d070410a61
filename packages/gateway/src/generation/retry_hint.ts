/**
 * `retryAfterMs` for refused sends, from the measured service time and the queue (issue 14.5).
 *
 * The queue's future is simulated: the generations in service end after what remains of the
 * mean service time, and each waiting one starts on the first worker to free up and takes the
 * mean. A send refused because the queue is full needs one of those completions; clients
 * refused meanwhile stand in a line (RetryLine), so they are spread over the completions
 * instead of all coming back at the first one, and the place promised is kept for them. A send
 * refused for its owner's limit needs its owner's first completion.
 */

/** Hints are never shorter than this (a retry costs a round trip) nor longer than the cap. */
const MIN_HINT_MS = 50;
const MAX_HINT_MS = 10 * 60_000;
/** A job past the mean is assumed to need this share of the mean again. */
const OVERRUN_SHARE = 0.1;
/** Share of the interval between completions that a full-queue hint adds after its completion. */
const ARRIVAL_MARGIN = 0.25;

/**
 * Exponentially weighted mean of the service time (a slot's grant to its release). Before the
 * first completion nothing is known: the estimate is then a short prior, or how long the
 * longest job in service has run already. Too short a hint costs a cheap refused retry; too
 * long a one leaves places empty while clients sleep, so the prior errs short.
 */
export class ServiceTime {
  #meanMs: number | undefined;

  constructor(private readonly priorMs = 250) {}

  /** The mean so far; `inService`: elapsed ms of the jobs running now. */
  estimateMs(inService: readonly number[] = []): number {
    return this.#meanMs ?? Math.max(this.priorMs, ...inService);
  }

  observe(ms: number): void {
    this.#meanMs = this.#meanMs === undefined ? ms : 0.8 * this.#meanMs + 0.2 * ms;
  }
}

export interface QueueSnapshot {
  /** Elapsed ms of each job in service. */
  inService: readonly number[];
  /** Jobs waiting for a slot, oldest first (their owners), then admitted ones not yet queued. */
  waiting: readonly string[];
  /** Owners of the jobs in service, in the order of `inService`. */
  inServiceOwners: readonly string[];
  workers: number;
  meanMs: number;
}

/** Expected ms from now until each job ends: in service first, then waiting, in order. */
export function completionTimes(q: QueueSnapshot): number[] {
  const remaining = q.inService.map((elapsed) =>
    Math.max(q.meanMs - elapsed, q.meanMs * OVERRUN_SHARE),
  );
  // Free times of the workers: those in service end at their remaining time, the rest now.
  const free = [...remaining].sort((a, b) => a - b);
  while (free.length < q.workers) free.unshift(0);
  const waiting = q.waiting.map(() => {
    free.sort((a, b) => a - b);
    const end = (free.shift() as number) + q.meanMs;
    free.push(end);
    return end;
  });
  return [...remaining, ...waiting];
}

const clamp = (ms: number) => Math.round(Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, ms)));

/** When the owner's first job is expected to end (it holds its owner's limit until then). */
export function ownerRetryAfterMs(q: QueueSnapshot, ownerId: string): number {
  const ends = completionTimes(q);
  const owners = [...q.inServiceOwners, ...q.waiting];
  const mine = ends.filter((_, i) => owners[i] === ownerId);
  return clamp(mine.length > 0 ? Math.min(...mine) : q.meanMs);
}

interface LinePlace {
  readonly ownerId: string;
  /** performance.now() at which the completion promised to the owner is expected. */
  at: number;
}

/**
 * The line of clients refused because the queue was full. Each is promised a completion: the
 * first one not already promised to someone ahead of it in the line. So that the promise
 * holds, a place that frees up is kept, from one interval between completions before a
 * promise is due until one after, for its owner (a key is the client's identity): a send of
 * anyone behind is refused meanwhile, though the queue is not full, and told to wait its
 * turn. An owner refused again while its promise is due keeps its place in the line. A promise
 * lapses one interval after its time (its client came back, or will not).
 */
export class RetryLine {
  /** Ascending by `at`. */
  readonly #line: LinePlace[] = [];

  #prune(interval: number, now: number): void {
    while (this.#line.length > 0 && (this.#line[0] as LinePlace).at < now - interval) {
      this.#line.shift();
    }
  }

  /** The owner's promise that is due now (its client is back), if any. */
  #due(ownerId: string, interval: number, now: number): LinePlace | undefined {
    return this.#line.find((p) => p.ownerId === ownerId && p.at - interval <= now);
  }

  /** Promises ahead of `mine` (all, when the owner has none due). */
  #ahead(mine: LinePlace | undefined): LinePlace[] {
    return this.#line.filter((p) => p !== mine && (!mine || p.at < mine.at));
  }

  /** Whether a send of `ownerId` may take one of `free` places now. */
  admits(ownerId: string, free: number, q: QueueSnapshot, now = performance.now()): boolean {
    const interval = q.meanMs / Math.max(1, q.workers);
    this.#prune(interval, now);
    const held = this.#ahead(this.#due(ownerId, interval, now)).filter(
      (p) => p.at - interval <= now,
    ).length;
    return free > held;
  }

  /** The owner's send was admitted: its promise, if it had one due, is kept. */
  admitted(ownerId: string, q: QueueSnapshot, now = performance.now()): void {
    const mine = this.#due(ownerId, q.meanMs / Math.max(1, q.workers), now);
    if (mine) this.#line.splice(this.#line.indexOf(mine), 1);
  }

  /** retryAfterMs for a refused send of `ownerId`, which takes (or keeps) its place in line. */
  refuse(ownerId: string, q: QueueSnapshot, now = performance.now()): number {
    const interval = q.meanMs / Math.max(1, q.workers);
    this.#prune(interval, now);
    const mine = this.#due(ownerId, interval, now);
    const ahead = this.#ahead(mine);
    const ends = completionTimes(q).sort((a, b) => a - b);
    const last = ends.at(-1) ?? 0;
    let at = 0;
    for (let i = 0; ; i++) {
      at = i < ends.length ? (ends[i] as number) : last + (i - ends.length + 1) * interval;
      // Completion i frees the (i+1)-th place; those ahead and back by then take theirs first.
      if (i + 1 > ahead.filter((p) => p.at <= now + at).length) break;
    }
    // A little after the place is expected to free up: the place is kept for the client
    // then, and one who comes back too early is refused again.
    if (mine) mine.at = now + at;
    else this.#line.push({ ownerId, at: now + at });
    this.#line.sort((a, b) => a.at - b.at);
    return clamp(at + ARRIVAL_MARGIN * interval);
  }
}
