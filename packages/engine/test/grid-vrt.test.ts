import { describe, expect, it } from "vitest";
import { vrtBias, vrtLogitMask, vrtPatch, vrtRange } from "../src/models/padt/vrt_mask.js";

const V = 151936;
const counts = [24, 35, 6];

describe("VRT logit mask", () => {
  it("allows every text row and only the current image's prototype rows", () => {
    const mask = vrtLogitMask(V, counts, 1);
    expect(mask.length).toBe(V + 65);
    expect(mask.subarray(0, V).every((v) => v === 0)).toBe(true);
    for (let j = 0; j < 65; j++) {
      expect(mask[V + j]).toBe(j >= 24 && j < 59 ? 0 : Number.NEGATIVE_INFINITY);
    }
  });

  it("gives the same bias over the VRT rows alone", () => {
    expect(vrtBias(counts, 1)).toEqual(vrtLogitMask(V, counts, 1).subarray(V));
    expect(vrtBias(counts, 0, -1e9)[24]).toBe(-1e9);
  });

  it("concatenates images' rows in order", () => {
    expect(vrtRange(V, counts, 0)).toEqual({ start: V, end: V + 24 });
    expect(vrtRange(V, counts, 2)).toEqual({ start: V + 59, end: V + 65 });
    expect(() => vrtRange(V, counts, 3)).toThrow(RangeError);
  });

  it("maps ids back to image and patch", () => {
    expect(vrtPatch(5, V, counts)).toBeUndefined();
    expect(vrtPatch(V, V, counts)).toEqual({ image: 0, patch: 0 });
    expect(vrtPatch(V + 24, V, counts)).toEqual({ image: 1, patch: 0 });
    expect(vrtPatch(V + 64, V, counts)).toEqual({ image: 2, patch: 5 });
    expect(() => vrtPatch(V + 65, V, counts)).toThrow(RangeError);
  });
});
