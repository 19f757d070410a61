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

/**
 * Hints are never shorter than this nor longer than the cap: a refused retry costs a round
 * trip of tens of ms under load, so a 50 ms hint was usually missed by more than 2x.
 */
const MIN_HINT_MS = 200;
const MAX_HINT_MS = 10 * 60_000;
/** A job past the mean is assumed to need this share of the mean again. */
const OVERRUN_SHARE = 0.1;
/** Share of the interval between completions that a full-queue hint adds after its completion. */
const ARRIVAL_MARGIN = 0.25;
/**
 * Share of the expected wait that a full-queue hint adds, for completions that come late: the
 * client's place is kept until it is back, so while other jobs wait for the worker, coming
 * back a little late costs nobody anything, and coming back early costs another refusal.
 */
const LATE_SHARE = 0.2;
/**
 * A promise lapses this long (or one interval between completions, if longer) after its
 * client was due back: the retry's own round trip takes hundreds of ms on a loaded server.
 */
const LAPSE_MS = 500;
/**
 * A requester back on its promise when the completion is late is admitted over the queue's
 * length by up to this many places: it kept its side of the promise, and refusing it again
 * is what made a wait twice its hint. Bounded, so memory stays bounded.
 */
export const PROMISE_SLACK = 2;

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

/** Who stands in the line: a refused send is retried as the next answer in the same session. */
export interface Requester {
  readonly ownerId: string;
  readonly sessionId: string;
}

interface LinePlace {
  readonly ownerId: string;
  readonly sessionId: string;
  /** performance.now() at which the completion promised to the requester is expected. */
  frees: number;
  /** performance.now() at which the requester was told to come back (at or after `frees`). */
  back: number;
}

/**
 * The line of sends refused because the queue was full. Each is promised a completion: the
 * first one not already promised to someone ahead of it in the line. So that the promise
 * holds, a place that frees up is kept for its requester, from one interval between
 * completions before the promised completion until a little after the requester was told to
 * come back: a send of anyone behind is refused meanwhile, though the queue is not full, and
 * told to wait its turn. A requester refused again while its promise is due keeps its place in
 * the line. A promise lapses `LAPSE_MS` after its return time (its client came back, or will
 * not).
 *
 * A requester is a session, not an owner: one key may have several sends waiting (tabs, or a
 * client's parallel requests), and each must find its own promise when it comes back. An owner
 * holds at most `maxPerOwner` promises (it may not run more generations than that anyway), so
 * refusals under fresh session ids cannot fill the line with places nobody takes.
 */
export class RetryLine {
  /** Ascending by `frees`. */
  readonly #line: LinePlace[] = [];

  constructor(private readonly maxPerOwner = Number.POSITIVE_INFINITY) {}

  #prune(interval: number, now: number): void {
    const grace = Math.max(interval, LAPSE_MS);
    for (let i = this.#line.length - 1; i >= 0; i--) {
      if ((this.#line[i] as LinePlace).back < now - grace) this.#line.splice(i, 1);
    }
  }

  /** The requester's promise that is due now (its client is back), if any. */
  #due(who: Requester, interval: number, now: number): LinePlace | undefined {
    return this.#line.find(
      (p) =>
        p.ownerId === who.ownerId && p.sessionId === who.sessionId && p.frees - interval <= now,
    );
  }

  /** Promises ahead of `mine` (all, when the requester has none due). */
  #ahead(mine: LinePlace | undefined): LinePlace[] {
    return this.#line.filter((p) => p !== mine && (!mine || p.frees < mine.frees));
  }

  /** Whether a send of `who` may take one of `free` places now (negative: over the length). */
  admits(who: Requester, free: number, q: QueueSnapshot, now = performance.now()): boolean {
    const interval = q.meanMs / Math.max(1, q.workers);
    this.#prune(interval, now);
    const mine = this.#due(who, interval, now);
    const held = this.#ahead(mine).filter((p) => p.frees - interval <= now).length;
    return free + (mine && now >= mine.back ? PROMISE_SLACK : 0) > held;
  }

  /** The requester's latest place in line (performance.now() times), if it holds one. */
  placeOf(who: Requester): { frees: number; back: number } | undefined {
    const mine = this.#line.filter(
      (p) => p.ownerId === who.ownerId && p.sessionId === who.sessionId,
    );
    const last = mine.sort((a, b) => a.back - b.back).at(-1);
    return last && { frees: last.frees, back: last.back };
  }

  /**
   * A place another replica promised (`--role gateway`, told over the bus): kept here as well,
   * so this replica does not hand it to someone else meanwhile. Replaces the requester's places.
   */
  hold(who: Requester, frees: number, back: number): void {
    this.drop(who);
    this.#line.push({ ownerId: who.ownerId, sessionId: who.sessionId, frees, back });
    this.#line.sort((a, b) => a.frees - b.frees);
  }

  /** The requester's places are gone (it was admitted on another replica). */
  drop(who: Requester): void {
    for (let i = this.#line.length - 1; i >= 0; i--) {
      const p = this.#line[i] as LinePlace;
      if (p.ownerId === who.ownerId && p.sessionId === who.sessionId) this.#line.splice(i, 1);
    }
  }

  /** The send of `who` was admitted: its promise, if it had one due, is kept. */
  admitted(who: Requester, q: QueueSnapshot, now = performance.now()): void {
    const mine = this.#due(who, q.meanMs / Math.max(1, q.workers), now);
    if (mine) this.#line.splice(this.#line.indexOf(mine), 1);
  }

  /** retryAfterMs for a refused send of `who`, which takes (or keeps) its place in line. */
  refuse(who: Requester, q: QueueSnapshot, now = performance.now()): number {
    const interval = q.meanMs / Math.max(1, q.workers);
    this.#prune(interval, now);
    const mine = this.#due(who, interval, now);
    const ahead = this.#ahead(mine);
    const ends = completionTimes(q).sort((a, b) => a - b);
    const last = ends.at(-1) ?? 0;
    let at = 0;
    for (let i = 0; ; i++) {
      at = i < ends.length ? (ends[i] as number) : last + (i - ends.length + 1) * interval;
      // Completion i frees the (i+1)-th place; those ahead and back by then take theirs first.
      if (i + 1 > ahead.filter((p) => p.frees <= now + at).length) break;
    }
    // A little after the place is expected to free up: the place is kept for the client
    // until then, and one who comes back too early is refused again.
    const hint = clamp(at * (1 + LATE_SHARE) + ARRIVAL_MARGIN * interval);
    if (mine) Object.assign(mine, { frees: now + at, back: now + hint });
    else if (this.#line.filter((p) => p.ownerId === who.ownerId).length < this.maxPerOwner)
      this.#line.push({ ...who, frees: now + at, back: now + hint });
    this.#line.sort((a, b) => a.frees - b.frees);
    return hint;
  }
}
