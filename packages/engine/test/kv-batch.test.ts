import { describe, expect, it } from "vitest";
import type { TensorData } from "../src/backend/ort.js";
import { appendRows, assembleCache } from "../src/models/padt/kv_batch.js";

// 2 q heads, 1 kv head, head_dim 2: appended rows are [B, 1, (2 + 2 * 1) * 2] = q q k v.
const heads = 1;
const hd = 2;

function packed(rows: number[][]): TensorData {
  return { type: "float32", dims: [rows.length, 1, 8], data: Float32Array.from(rows.flat()) };
}

describe("appendRows", () => {
  it("writes each sequence's k and v heads of the packed q|k|v rows at its own length", () => {
    const cache = assembleCache(
      [
        { tensors: [zeros(1, 3), zeros(1, 3)], row: 0, length: 1 },
        { tensors: [zeros(1, 3), zeros(1, 3)], row: 0, length: 2 },
      ],
      4,
    );
    appendRows(
      cache,
      [
        packed([
          [9, 9, 9, 9, 1, 2, 3, 4],
          [9, 9, 9, 9, 5, 6, 7, 8],
        ]),
      ],
      [1, 2],
    );
    const [keys, values] = cache.map((t) => Array.from(t.data as Float32Array));
    // [B=2, kv=1, 4 rows, hd=2]: sequence 0's row 1, sequence 1's row 2.
    expect(keys).toEqual([0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0]);
    expect(values).toEqual([0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8, 0, 0]);
  });

  it("refuses a row past the cache's room", () => {
    const cache = assembleCache([{ tensors: [zeros(1, 2), zeros(1, 2)], row: 0, length: 2 }]);
    expect(() => appendRows(cache, [packed([[0, 0, 0, 0, 1, 2, 3, 4]])], [2])).toThrow(
      /KV cache full: row 2 of 2/,
    );
  });
});

function zeros(batch: number, rows: number): TensorData {
  return {
    type: "float32",
    dims: [batch, heads, rows, hd],
    data: new Float32Array(batch * heads * rows * hd),
  };
}
