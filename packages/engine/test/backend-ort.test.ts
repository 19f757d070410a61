import { ErrorCode } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import {
  defaultIntraOpThreads,
  openSession,
  ortSessionOptions,
  providerInstalled,
} from "../src/backend/ort.js";

// A 3x2 MatMul and an int64 doubling, written by onnx's helper: enough to exercise the wrapper.
const model = new URL("./fixtures/matmul.onnx", import.meta.url).pathname;

describe("onnxruntime backend", () => {
  it("runs a graph on CPU with plain typed arrays in and out", async () => {
    const session = await openSession(model, { intraOpThreads: 1 });
    expect(session.provider).toBe("cpu");
    expect([...session.inputNames].sort()).toEqual(["ids", "x"]);
    const out = await session.run({
      x: { type: "float32", dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      ids: { type: "int64", dims: [2], data: new BigInt64Array([5n, -1n]) },
    });
    const { y, ids2 } = out;
    if (y?.type !== "float32" || ids2?.type !== "int64") throw new Error("unexpected output types");
    expect(y.dims).toEqual([2, 2]);
    expect(Array.from(y.data)).toEqual([4, 5, 10, 11]);
    expect(Array.from(ids2.data)).toEqual([10n, -2n]);
    await session.release();
  });

  it("says clearly when CUDA is not installed, and falls back to CPU only when asked", async () => {
    if (providerInstalled("cuda")) return; // a GPU machine with the CUDA files: nothing to refuse
    await expect(openSession(model, { provider: "cuda", fallback: "error" })).rejects.toMatchObject(
      {
        code: ErrorCode.PROVIDER_UNAVAILABLE,
        message: expect.stringMatching(/ONNXRUNTIME_NODE_INSTALL=cuda12/),
      },
    );
    const session = await openSession(model, { provider: "cuda", fallback: "cpu" });
    expect(session.provider).toBe("cpu");
    expect(session.fallbackReason).toMatch(/not installed/);
    await session.release();
  });

  it("turns spin-waiting off and leaves a core to the event loop unless told otherwise", async () => {
    expect(defaultIntraOpThreads(2)).toBe(1);
    expect(defaultIntraOpThreads(16)).toBe(15);
    expect(defaultIntraOpThreads(1)).toBe(1);
    const quiet = ortSessionOptions("cpu", {});
    expect(quiet.intraOpNumThreads).toBe(defaultIntraOpThreads());
    expect(quiet.extra).toEqual({
      session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } },
    });
    const spinning = ortSessionOptions("cpu", { allowSpinning: true, intraOpThreads: 3 });
    expect(spinning.intraOpNumThreads).toBe(3);
    expect(spinning.extra).toEqual({
      session: { intra_op: { allow_spinning: "1" }, inter_op: { allow_spinning: "1" } },
    });
    // onnxruntime accepts the entries (an unknown config key would fail session creation).
    const session = await openSession(model, {});
    await session.release();
  });

  it("knows the CPU provider is always there", () => {
    expect(providerInstalled("cpu")).toBe(true);
  });
});
