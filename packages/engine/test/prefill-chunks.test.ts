import { describe, expect, it } from "vitest";
import { prefillChunks } from "../src/models/padt/prefill_chunks.js";

describe("prefillChunks", () => {
  // Graph ids: text < 10, image placeholders from 20 (row 20 + i of the image rows), D = 2.
  const ids = BigInt64Array.from([1, 20, 21, 22, 2, 23, 24, 3].map(BigInt));
  const rows = Float32Array.from({ length: 5 * 2 }, (_, i) => i);
  const positions = BigInt64Array.from({ length: 3 * 8 }, (_, i) => BigInt(i));

  it("splits ids, image rows and positions, each chunk's placeholders counted from its own rows", () => {
    const chunks = prefillChunks(ids, rows, positions, 20, 2, 3);
    expect(chunks.map((c) => Array.from(c.ids, Number))).toEqual([
      [1, 20, 21],
      [20, 2, 21],
      [20, 3],
    ]);
    expect(chunks.map((c) => Array.from(c.imageRows))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    // Axis-major [3, L]: each axis's slice of the chunk.
    expect(Array.from(chunks[1]!.positions, Number)).toEqual([3, 4, 5, 11, 12, 13, 19, 20, 21]);
    expect(chunks.map((c) => c.totalLength)).toEqual([3, 6, 8]);
  });

  it("gives the whole prompt as one call for chunk 0", () => {
    const [one, ...rest] = prefillChunks(ids, rows, positions, 20, 2, 0);
    expect(rest).toHaveLength(0);
    expect(Array.from(one!.ids)).toEqual(Array.from(ids));
    expect(one!.imageRows).toHaveLength(10);
    expect(Array.from(one!.positions)).toEqual(Array.from(positions));
  });
});
