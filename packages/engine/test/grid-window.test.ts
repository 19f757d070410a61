import { describe, expect, it } from "vitest";
import {
  blockDiagonalMask,
  FLOAT32_LOWEST,
  inversePermutation,
  mergedTokenCount,
  segmentIds,
  windowLayout,
} from "../src/models/padt/vision_grid.js";
import { expectInts, geometry, gridFixture, gridsOf } from "./grid-fixtures.js";

describe("window layout equals transformers' get_window_index", () => {
  for (const c of gridFixture.vision.cases) {
    const name = c.grids.map(([h, w]) => `${h}x${w}`).join(" + ");
    it(`${name}: window index, its inverse, cu_window_seqlens, cu_seqlens`, () => {
      const layout = windowLayout(gridsOf(c), geometry);
      expect(layout.patches).toBe(c.patches);
      expectInts(layout.windowIndex, c.windowIndex);
      expectInts(layout.reverseIndex, c.reverseIndex);
      expect(Array.from(layout.cuWindowSeqlens)).toEqual(c.cuWindowSeqlens);
      expect(Array.from(layout.cuSeqlens)).toEqual(c.cuSeqlens);
    });
  }

  it("adds a whole empty window on a side that divides evenly (and drops its boundary)", () => {
    // 8x8 patches = 4x4 merge units: transformers pads to 8x8 units, 4 windows, 3 empty.
    const c = gridFixture.vision.cases.find((k) => k.grids[0]?.join() === "8,8")!;
    expect(c.cuWindowSeqlensRaw).toEqual([0, 64, 64, 64, 64]);
    expect(Array.from(windowLayout([{ h: 8, w: 8 }], geometry).cuWindowSeqlens)).toEqual([0, 64]);
  });

  it("counts merged tokens and rejects odd grids", () => {
    expect(mergedTokenCount({ h: 32, w: 46 }, geometry)).toBe(368);
    expect(() => mergedTokenCount({ h: 7, w: 8 }, geometry)).toThrow(RangeError);
    expect(() => windowLayout([{ h: 0, w: 8 }], geometry)).toThrow(RangeError);
  });
});

describe("attention blocks", () => {
  it("inverts permutations", () => {
    const p = Int32Array.from([2, 0, 3, 1]);
    expect(Array.from(inversePermutation(p))).toEqual([1, 3, 0, 2]);
  });

  it("gives segment ids per window and per image", () => {
    expect(Array.from(segmentIds(Int32Array.from([0, 2, 5, 6])))).toEqual([0, 0, 1, 1, 1, 2]);
  });

  it("builds transformers' eager mask: 0 in blocks, float32 lowest elsewhere", () => {
    for (const c of gridFixture.vision.cases.filter((k) => k.patches <= 240)) {
      const layout = windowLayout(gridsOf(c), geometry);
      for (const cu of [layout.cuWindowSeqlens, layout.cuSeqlens]) {
        const n = layout.patches;
        const mask = blockDiagonalMask(cu);
        expect(mask.length).toBe(n * n);
        // The reference loop of Qwen2_5_VLVisionAttention.forward.
        const want = new Float32Array(n * n).fill(FLOAT32_LOWEST);
        for (let i = 1; i < cu.length; i++) {
          for (let r = cu[i - 1]!; r < cu[i]!; r++)
            want.fill(0, r * n + cu[i - 1]!, r * n + cu[i]!);
        }
        expect(mask).toEqual(want);
      }
    }
  });

  it("keeps two images apart under full attention", () => {
    const multi = gridFixture.vision.cases.find((k) => k.grids.length === 2)!;
    const layout = windowLayout(gridsOf(multi), geometry);
    const n = layout.patches;
    const first = multi.grids[0]![0] * multi.grids[0]![1];
    const mask = blockDiagonalMask(layout.cuSeqlens, Number.NEGATIVE_INFINITY);
    expect(mask[0]).toBe(0);
    expect(mask[first - 1]).toBe(0);
    expect(mask[first]).toBe(Number.NEGATIVE_INFINITY);
    expect(mask[first * n + first - 1]).toBe(Number.NEGATIVE_INFINITY);
    expect(mask[first * n + first]).toBe(0);
    const seg = segmentIds(layout.cuSeqlens);
    expect(seg[first - 1]).toBe(0);
    expect(seg[first]).toBe(1);
  });
});
