import { describe, expect, it } from "vitest";
import { EventBatch } from "../src/runtime/event_batch.js";

/** A scheduler the test runs by hand: what setImmediate would run at the next loop turn. */
function manualScheduler() {
  const queued: (() => void)[] = [];
  return {
    schedule: (f: () => void) => queued.push(f),
    runNext: () => queued.shift()?.(),
    get queued() {
      return queued.length;
    },
  };
}

describe("EventBatch", () => {
  it("sends the events of one loop turn as one message, in order", () => {
    const sent: number[][] = [];
    const clock = manualScheduler();
    const batch = new EventBatch<number>((events) => sent.push(events), clock.schedule);
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
    const batch = new EventBatch<string>((events) => sent.push(events), clock.schedule);
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
});
