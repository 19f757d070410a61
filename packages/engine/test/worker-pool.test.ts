import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { ErrorCode, isPadtError } from "@padt/protocol";
import { afterAll, describe, expect, it, vi } from "vitest";
import { WorkerPool } from "../src/runtime/index.js";
import type { BusyEvent, BusyRequest } from "./fixtures/busy-worker.js";

const entry = new URL("./fixtures/busy-worker.ts", import.meta.url);
const pools: WorkerPool<BusyRequest, BusyEvent>[] = [];
async function startPool(
  options: { size?: number; perWorker?: number; maxQueue?: number; workerData?: unknown } = {},
) {
  const pool = await WorkerPool.start<BusyRequest, BusyEvent>({ entry, ...options });
  pools.push(pool);
  return pool;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) out.push(e);
  return out;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("WorkerPool", () => {
  it("streams a job's events in order", async () => {
    const pool = await startPool();
    const events = await collect(pool.run({ steps: 4, stepMs: 5 }));
    expect(events).toEqual([0, 1, 2, 3].map((step) => ({ step, thread: "worker" })));
  });

  it("keeps the main event loop responsive while a worker blocks its own thread", async () => {
    const pool = await startPool();
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    // 10 steps of 100 ms: on the main thread this would delay the loop by ~100 ms each time.
    await collect(pool.run({ steps: 10, stepMs: 100 }));
    histogram.disable();
    const p99Ms = histogram.percentile(99) / 1e6;
    expect(p99Ms).toBeLessThan(50);
  });

  it("refuses a job with QUEUE_FULL when every worker is busy and the queue is full", async () => {
    const pool = await startPool({ size: 1, maxQueue: 1 });
    const running = collect(pool.run({ steps: 3, stepMs: 30 }));
    const queued = collect(pool.run({ steps: 1, stepMs: 1 }));
    let error: unknown;
    try {
      pool.run({ steps: 1, stepMs: 1 });
    } catch (e) {
      error = e;
    }
    expect(isPadtError(error, ErrorCode.QUEUE_FULL)).toBe(true);
    expect(pool.stats()).toMatchObject({ workers: 1, busy: 1, queued: 1, maxQueue: 1 });
    await Promise.all([running, queued]);
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
  });

  it("runs up to perWorker jobs on one worker at once, interleaved, each with its own events", async () => {
    const pool = await startPool({ size: 1, perWorker: 3, maxQueue: 0 });
    const order: number[] = [];
    const jobs = [0, 1, 2].map(async (job) => {
      const events: BusyEvent[] = [];
      for await (const e of pool.run({ steps: 3, stepMs: 2 })) {
        order.push(job);
        events.push(e);
      }
      return events;
    });
    // All three are running (none queued: a queue of 0 would have refused a fourth).
    expect(pool.stats()).toMatchObject({ workers: 1, slots: 3, busy: 3, queued: 0 });
    expect(() => pool.run({ steps: 1, stepMs: 1 })).toThrow(/queue is full/);
    for (const events of await Promise.all(jobs))
      expect(events).toEqual([0, 1, 2].map((step) => ({ step, thread: "worker" })));
    // Interleaved: the first job's steps did not all come before the others' first.
    expect(order.slice(0, 3).sort()).not.toEqual([0, 0, 0]);
  });

  it("sends the events its jobs emit in one turn of the worker's loop as one message", async () => {
    const pool = await startPool({ size: 1, perWorker: 3, maxQueue: 0 });
    const emit = vi.spyOn(Worker.prototype, "emit");
    try {
      const results = await Promise.all(
        [0, 1, 2].map(() => collect(pool.run({ steps: 3, stepMs: 2 }))),
      );
      for (const events of results) expect(events).toHaveLength(3);
      const messages = emit.mock.calls
        .filter(([name, message]) => name === "message" && message?.type === "events")
        .map(([, message]) => message as { jobs: { id: number; events: unknown[] }[] });
      // The three jobs step in the same turns: their events share messages (before: one
      // message per job per turn, 9 for these 9 events).
      expect(messages.some((m) => m.jobs.length > 1)).toBe(true);
      expect(messages.length).toBeLessThan(9);
      expect(messages.flatMap((m) => m.jobs.flatMap((j) => j.events))).toHaveLength(9);
    } finally {
      emit.mockRestore();
    }
  });

  it("cancels a running job between steps through its AbortSignal", async () => {
    const pool = await startPool();
    const controller = new AbortController();
    const events: BusyEvent[] = [];
    for await (const event of pool.run({ steps: 50, stepMs: 20 }, controller.signal)) {
      events.push(event);
      if (events.length === 2) controller.abort();
    }
    const last = events.at(-1);
    expect(last).toHaveProperty("cancelled");
    expect(events.length).toBeLessThan(6);
  });

  it("fails a queued job that is cancelled before it starts", async () => {
    const pool = await startPool({ size: 1 });
    const running = collect(pool.run({ steps: 3, stepMs: 20 }));
    const controller = new AbortController();
    const queued = collect(pool.run({ steps: 1, stepMs: 1 }, controller.signal));
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: ErrorCode.GENERATION_CANCELLED });
    await running;
  });

  it("stops the job when the consumer stops reading", async () => {
    const pool = await startPool({ size: 1 });
    for await (const _ of pool.run({ steps: 100, stepMs: 10 })) break;
    // The worker notices at its next step and frees itself for the next job.
    const next = await collect(pool.run({ steps: 1, stepMs: 1 }));
    expect(next).toHaveLength(1);
  });

  it("passes a job's typed error to the caller with its code", async () => {
    const pool = await startPool();
    await expect(collect(pool.run({ steps: 3, stepMs: 1, fail: "padt" }))).rejects.toMatchObject({
      code: ErrorCode.PROMPT_TOO_LONG,
      message: "too long",
    });
  });

  it("fails the job of a crashed worker and replaces the worker", async () => {
    const pool = await startPool({ size: 1 });
    await expect(collect(pool.run({ steps: 3, stepMs: 1, fail: "crash" }))).rejects.toThrow(
      /exited with code 3/,
    );
    await expect.poll(() => pool.stats().workers, { timeout: 20_000 }).toBe(1);
    expect(await collect(pool.run({ steps: 2, stepMs: 1 }))).toHaveLength(2);
  });

  it("reports a worker that cannot initialise", async () => {
    await expect(startPool({ workerData: { failInit: true } })).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_INVALID,
    });
  });
});
