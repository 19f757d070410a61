/**
 * retryAfterMs from the measured service time and the queue (issue 14.5): before, a full
 * queue answered mean x (engine queue + busy) / workers for everyone, 4-8x the real wait.
 */
import { describe, expect, it } from "vitest";
import {
  completionTimes,
  ownerRetryAfterMs,
  type QueueSnapshot,
  RetryLine,
  ServiceTime,
} from "../src/generation/retry_hint.js";

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
    // Each completion, plus a quarter of the interval between completions (1 s here): the
    // client comes back just after its place frees, and the place is kept for it.
    expect(["p", "q", "r", "s", "t"].map((owner) => line.refuse(owner, q, 0))).toEqual([
      850, 1850, 2850, 3850, 4850,
    ]);
    // Promises whose time has passed by one interval lapse (their clients did not return).
    const lapsing = new RetryLine();
    lapsing.refuse("p", q, 0);
    expect(lapsing.refuse("q", q, 10_000)).toBe(850);
  });

  it("keeps a freed place for the client whose turn it is", () => {
    const line = new RetryLine();
    const q = queue({ meanMs: 200, inService: [0] });
    expect(line.refuse("early", q, 0)).toBe(250);
    // A place is free at 190 ms: not for a newcomer, for the client promised it.
    expect(line.admits("newcomer", 1, q, 190)).toBe(false);
    expect(line.admits("early", 1, q, 190)).toBe(true);
    line.admitted("early", q, 190);
    expect(line.admits("newcomer", 1, q, 191)).toBe(true);
  });

  it("a client refused again when its turn came keeps its place in the line", () => {
    const line = new RetryLine();
    const q = queue();
    expect(line.refuse("first", q, 0)).toBe(850);
    expect(line.refuse("second", q, 0)).toBe(1850);
    // Back at 700 ms and still refused (the completion was late): first in line again.
    expect(line.refuse("first", q, 700)).toBe(850);
    // The second keeps its promise too (the completion now expected at 2300 ms is its).
    expect(line.refuse("third", q, 700)).toBe(2850);
  });

  it("a client promised a later time does not hold an earlier completion", () => {
    const line = new RetryLine();
    // Told to come back in 9.6 s while the service time was still a guess...
    expect(line.refuse("guessed", queue({ meanMs: 10_000 }), 0)).toBe(12_100);
    // ...it cannot take the places that free up before then: the next client gets the first.
    expect(line.refuse("next", queue(), 100)).toBe(850);
    expect(line.refuse("after", queue(), 100)).toBe(1850);
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
