import { describe, expect, it } from "vitest";
import { mropeAxes, mropeTables } from "../src/models/padt/mrope.js";
import { decodePositions, ropeIndex } from "../src/models/padt/positions.js";
import { gridFixture, gridsOf, maxRowDiff } from "./grid-fixtures.js";

const llm = gridFixture.llm;
const options = {
  imagePadId: llm.imagePadId,
  visionStartId: llm.visionStartId,
  spatialMergeSize: gridFixture.vision.spatialMergeSize,
};
const mrope = { headDim: llm.headDim, theta: llm.theta, mropeSection: llm.mropeSection };

describe("3-D rope positions equal transformers' get_rope_index", () => {
  for (const [name, c] of Object.entries(llm.cases)) {
    it(`${name}: position ids and rope delta`, () => {
      const { positions, ropeDelta } = ropeIndex(c.inputIds.values!, gridsOf(c), options);
      const length = c.inputIds.length;
      for (let axis = 0; axis < 3; axis++) {
        expect(Array.from(positions.subarray(axis * length, (axis + 1) * length))).toEqual(
          c.positionIds[axis],
        );
      }
      expect(ropeDelta).toBe(c.ropeDelta);
    });

    it(`${name}: decode steps at L + rope delta on all axes (not L + length)`, () => {
      for (const L of c.decodeLengths) {
        expect(Array.from(decodePositions(L, c.ropeDelta))).toEqual([
          L + c.ropeDelta,
          L + c.ropeDelta,
          L + c.ropeDelta,
        ]);
      }
      expect(Array.from(decodePositions(10, -3, 2))).toEqual([7, 8, 7, 8, 7, 8]);
    });
  }

  it("rejects ids whose images do not match the grids", () => {
    const c = llm.cases.twoImages!;
    expect(() => ropeIndex(c.inputIds.values!, gridsOf(c).slice(1), options)).toThrow(RangeError);
  });
});

describe("multimodal rotary tables equal transformers' (mrope_section applied)", () => {
  it("maps head dims to t, h, w sections", () => {
    const axes = mropeAxes(mrope);
    expect([
      axes[0],
      axes[15],
      axes[16],
      axes[39],
      axes[40],
      axes[63],
      axes[64],
      axes[127],
    ]).toEqual([0, 0, 1, 1, 2, 2, 0, 2]);
    expect(() => mropeAxes({ ...mrope, mropeSection: [16, 24, 23] })).toThrow(RangeError);
  });

  it("cos/sin within 1e-6 for prompt and decode positions up to 30000", () => {
    const c = llm.cases.twoImages!;
    const [t, h, w] = c.cosSinPositions!;
    const positions = Int32Array.from([...t, ...h, ...w]);
    const { cos, sin } = mropeTables(positions, mrope);
    const rows = t.map((_, i) => i);
    expect(maxRowDiff(cos, llm.headDim, rows, c.cos!)).toBeLessThan(1e-6);
    expect(maxRowDiff(sin, llm.headDim, rows, c.sin!)).toBeLessThan(1e-6);
  });
});
