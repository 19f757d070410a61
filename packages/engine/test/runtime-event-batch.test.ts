import { describe, expect, it } from "vitest";
import { EventBatch, groupByJob } from "../src/runtime/event_batch.js";

/** A scheduler the test runs by hand: what the loop would run next, and after what delay. */
function manualScheduler() {
  const queued: (() => void)[] = [];
  const delays: number[] = [];
  return {
    schedule: (f: () => void, delayMs: number) => {
      queued.push(f);
      delays.push(delayMs);
    },
    runNext: () => queued.shift()?.(),
    delays,
    get queued() {
      return queued.length;
    },
  };
}

describe("EventBatch", () => {
  it("sends the events of one loop turn as one message, in order", () => {
    const sent: number[][] = [];
    const clock = manualScheduler();
    const batch = new EventBatch<number>((events) => sent.push(events), {
      schedule: clock.schedule,
    });
    batch.push(1);
    batch.push(2);
    batch.push(3);
    expect(sent).toEqual([]);
    expect(clock.queued).toBe(1);
    clock.runNext();
    batch.push(4);
    clock.runNext();
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it("flushes at once when asked (before a job's end), and never sends an empty batch", () => {
    const sent: string[][] = [];
    const clock = manualScheduler();
    const batch = new EventBatch<string>((events) => sent.push(events), {
      schedule: clock.schedule,
    });
    batch.push("a");
    batch.flush();
    clock.runNext();
    batch.flush();
    expect(sent).toEqual([["a"]]);
  });

  it("by default flushes on setImmediate, before work the job schedules after its events", async () => {
    const sent: number[][] = [];
    const batch = new EventBatch<number>((events) => sent.push(events));
    batch.push(1);
    batch.push(2);
    // onnxruntime-node starts a run from setImmediate: the batch queued first goes first.
    const seen = await new Promise<number[][]>((resolve) => setImmediate(() => resolve([...sent])));
    expect(seen).toEqual([[1, 2]]);
  });

  it("with an interval, holds events that come sooner for one later message", () => {
    const sent: number[][] = [];
    const clock = manualScheduler();
    let now = 100;
    const batch = new EventBatch<number>((events) => sent.push(events), {
      schedule: clock.schedule,
      intervalMs: 2,
      now: () => now,
    });
    batch.push(1); // the first event after a quiet spell: at the next turn
    clock.runNext();
    now = 100.5;
    batch.push(2); // 0.5 ms after a message: held until 2 ms after it
    now = 101;
    batch.push(3);
    expect(clock.delays).toEqual([0, 1.5]);
    expect(sent).toEqual([[1]]);
    now = 102;
    clock.runNext();
    expect(sent).toEqual([[1], [2, 3]]);
    now = 110;
    batch.push(4); // long after the last message: at once again
    expect(clock.delays.at(-1)).toBe(0);
  });

  it("groups a turn's events by job, each job's in order, jobs in the order they first emitted", () => {
    const items = [
      { id: 2, event: "a" },
      { id: 1, event: "b" },
      { id: 2, event: "c" },
      { id: 3, event: "d" },
      { id: 1, event: "e" },
    ];
    expect(groupByJob(items)).toEqual([
      { id: 2, events: ["a", "c"] },
      { id: 1, events: ["b", "e"] },
      { id: 3, events: ["d"] },
    ]);
    expect(groupByJob([])).toEqual([]);
  });
});
