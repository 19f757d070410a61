/** Engine workers each hold a copy of the bundle: more than fit in memory are refused at start. */
import { ErrorCode } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { checkWorkerMemory, workersThatFit } from "../src/engine/capacity.js";

const GB = 1e9;
const cacheBytes = 256 * 1024 * 1024;

describe("engine workers and memory", () => {
  it("counts a copy of the bundle (and its image cache) per worker", () => {
    // The 3B bundle (15.4 GB) fits once on this 24 GB machine; the Shapes bundle many times.
    expect(workersThatFit({ bundleBytes: 15.4 * GB, cacheBytes, totalBytes: 24 * GB })).toBe(1);
    expect(workersThatFit({ bundleBytes: 15.4 * GB, cacheBytes, totalBytes: 128 * GB })).toBe(6);
    expect(workersThatFit({ bundleBytes: 0.018 * GB, cacheBytes, totalBytes: 24 * GB })).toBe(70);
  });

  it("refuses two copies of a 3B bundle on 24 GB, naming the most that fit", () => {
    const ask = (workers: number) => () =>
      checkWorkerMemory({ workers, bundleBytes: 15.4 * GB, cacheBytes, totalBytes: 24 * GB });
    expect(ask(2)).toThrow(
      expect.objectContaining({
        code: ErrorCode.WORKERS_EXCEED_MEMORY,
        message: expect.stringContaining("use --workers 1"),
      }),
    );
    expect(ask(1)).not.toThrow();
  });

  it("always allows one worker, even for a bundle larger than the machine", () => {
    expect(() =>
      checkWorkerMemory({ workers: 1, bundleBytes: 40 * GB, cacheBytes, totalBytes: 24 * GB }),
    ).not.toThrow();
  });
});
