/**
 * retryAfterMs from the measured service time and the queue (issue 14.5): before, a full
 * queue answered mean x (engine queue + busy) / workers for everyone, 4-8x the real wait.
 */
import { describe, expect, it } from "vitest";
import {
  completionTimes,
  ownerRetryAfterMs,
  PROMISE_SLACK,
  type QueueSnapshot,
  RetryLine,
  ServiceTime,
} from "../src/generation/retry_hint.js";

/** One session per name: the line keys on the session a refused send is retried in. */
const who = (name: string, ownerId = name) => ({ ownerId, sessionId: `s-${name}` });

const queue = (over: Partial<QueueSnapshot> = {}): QueueSnapshot => ({
  inService: [400],
  inServiceOwners: ["a"],
  waiting: ["b", "c", "a"],
  workers: 1,
  meanMs: 1000,
  ...over,
});

describe("retry hints", () => {
  it("simulates the queue: what remains of the job in service, then one mean per waiting job", () => {
    expect(completionTimes(queue())).toEqual([600, 1600, 2600, 3600]);
    // Two workers: waiting jobs start on whichever frees first.
    expect(completionTimes(queue({ workers: 2 }))).toEqual([600, 1000, 1600, 2000]);
    // A job past the mean is expected to need a little more, never a negative time.
    expect(completionTimes(queue({ inService: [5000], waiting: [] }))).toEqual([100]);
  });

  it("an owner at its limit waits for its own first completion", () => {
    expect(ownerRetryAfterMs(queue(), "a")).toBe(600);
    expect(ownerRetryAfterMs(queue(), "c")).toBe(2600);
  });

  it("a full queue promises each refused client the next completion not yet promised", () => {
    const line = new RetryLine();
    const q = queue();
    // Each completion, plus a fifth of the wait and a quarter of the interval between
    // completions (1 s here): the client comes back after its place frees, and the place is
    // kept for it until then.
    expect(["p", "q", "r", "s", "t"].map((owner) => line.refuse(who(owner), q, 0))).toEqual([
      970, 2170, 3370, 4570, 5770,
    ]);
    // Promises whose time has passed by an interval lapse (their clients did not return).
    const lapsing = new RetryLine();
    lapsing.refuse(who("p"), q, 0);
    expect(lapsing.refuse(who("q"), q, 10_000)).toBe(970);
  });

  it("keeps a freed place for the client whose turn it is", () => {
    const line = new RetryLine();
    const q = queue({ meanMs: 200, inService: [0] });
    expect(line.refuse(who("early"), q, 0)).toBe(290);
    // A place is free at 190 ms: not for a newcomer, for the client promised it.
    expect(line.admits(who("newcomer"), 1, q, 190)).toBe(false);
    expect(line.admits(who("early"), 1, q, 190)).toBe(true);
    line.admitted(who("early"), q, 190);
    expect(line.admits(who("newcomer"), 1, q, 191)).toBe(true);
  });

  it("keeps a place another replica promised (told over the bus) until it is dropped there", () => {
    const here = new RetryLine();
    const there = new RetryLine();
    const q = queue({ meanMs: 200, inService: [0] });
    expect(there.refuse(who("early"), q, 0)).toBe(290);
    const place = there.placeOf(who("early"));
    expect(place).toEqual({ frees: 200, back: 290 });
    here.hold(who("early"), place!.frees, place!.back);
    // The place freed at 190 ms is kept here too: a newcomer on this replica waits its turn,
    // and the client promised it is admitted here as well as there.
    expect(here.admits(who("newcomer"), 1, q, 190)).toBe(false);
    expect(here.admits(who("early"), 1, q, 190)).toBe(true);
    // Admitted on the other replica: dropped here, so the newcomer gets the place.
    here.drop(who("early"));
    expect(here.placeOf(who("early"))).toBeUndefined();
    expect(here.admits(who("newcomer"), 1, q, 191)).toBe(true);
  });

  it("admits a client back on its promise over the queue's length, by a bounded slack", () => {
    const line = new RetryLine();
    const q = queue();
    expect(line.refuse(who("kept"), q, 0)).toBe(970);
    // The completion is late: no place is free when the client comes back on its hint.
    expect(line.admits(who("newcomer"), 0, q, 980)).toBe(false);
    expect(line.admits(who("kept"), 0, q, 980)).toBe(true);
    // Back too early, it keeps no more than its promise; past the slack, refused.
    expect(line.admits(who("kept"), 0, q, 700)).toBe(false);
    expect(line.admits(who("kept"), -PROMISE_SLACK, q, 980)).toBe(false);
  });

  it("keeps the place until the client is back, when its hint ends after the completion", () => {
    const line = new RetryLine();
    // 20 ms jobs: the place frees at 20 ms, the hint is the 200 ms floor.
    const q = queue({ meanMs: 20, inService: [0], waiting: [] });
    expect(line.refuse(who("back-late"), q, 0)).toBe(200);
    // Before, the place was kept only until one interval after its completion (40 ms).
    expect(line.admits(who("newcomer"), 1, q, 150)).toBe(false);
    expect(line.admits(who("back-late"), 1, q, 205)).toBe(true);
    // A client that never comes back holds it no longer than half a second past its time
    // (a retry's round trip is slow on a loaded server).
    expect(line.admits(who("newcomer"), 1, q, 690)).toBe(false);
    expect(line.admits(who("newcomer"), 1, q, 710)).toBe(true);
  });

  it("a client refused again when its turn came keeps its place in the line", () => {
    const line = new RetryLine();
    const q = queue();
    expect(line.refuse(who("first"), q, 0)).toBe(970);
    expect(line.refuse(who("second"), q, 0)).toBe(2170);
    // Back at 700 ms and still refused (the completion was late): first in line again.
    expect(line.refuse(who("first"), q, 700)).toBe(970);
    // The second keeps its promise too (the completion now expected at 2300 ms is its).
    expect(line.refuse(who("third"), q, 700)).toBe(3370);
  });

  it("one owner's sends in two sessions each keep their own promise", () => {
    // Before, the line keyed on the owner: a second send of the same key, refused while the
    // first one's promise was due, took that promise, and the first, back on time, went to
    // the end of the line (2 s of 9 s of misses in the load bench were this).
    const line = new RetryLine();
    const q = queue();
    expect(line.refuse(who("tab1", "k"), q, 0)).toBe(970);
    expect(line.refuse(who("other"), q, 0)).toBe(2170);
    // The owner's second session is refused when the first's promise is due: a new place.
    expect(line.refuse(who("tab2", "k"), q, 700)).toBe(3370);
    // The first session, back on time, still finds its promise: first in line.
    expect(line.refuse(who("tab1", "k"), q, 980)).toBe(970);
  });

  it("an owner holds at most its generation limit of places in the line", () => {
    const line = new RetryLine(2);
    const q = queue();
    expect(line.refuse(who("a1", "a"), q, 0)).toBe(970);
    expect(line.refuse(who("a2", "a"), q, 0)).toBe(2170);
    // A third session of the same owner is told the wait after them, and holds no place...
    expect(line.refuse(who("a3", "a"), q, 0)).toBe(3370);
    // ...so the next owner's promise is that completion, not the one after it.
    expect(line.refuse(who("b"), q, 0)).toBe(3370);
  });

  it("a client promised a later time does not hold an earlier completion", () => {
    const line = new RetryLine();
    // Told to come back in 9.6 s while the service time was still a guess...
    expect(line.refuse(who("guessed"), queue({ meanMs: 10_000 }), 0)).toBe(14_020);
    // ...it cannot take the places that free up before then: the next client gets the first.
    expect(line.refuse(who("next"), queue(), 100)).toBe(970);
    expect(line.refuse(who("after"), queue(), 100)).toBe(2170);
  });

  it("measures the service time as a moving mean, erring short before the first completion", () => {
    const s = new ServiceTime(250);
    expect(s.estimateMs()).toBe(250);
    // A job that has run 3 s already says the service takes at least that.
    expect(s.estimateMs([1200, 3000])).toBe(3000);
    s.observe(2000);
    expect(s.estimateMs([5000])).toBe(2000);
    for (let i = 0; i < 40; i++) s.observe(300);
    expect(s.estimateMs()).toBeCloseTo(300, 0);
  });
});
