import { describe, expect, it } from "vitest";
import { windowLayout } from "../src/models/padt/vision_grid.js";
import {
  rasterMergePositions,
  visionRotaryTables,
  windowOrderPositions,
} from "../src/models/padt/vision_rotary.js";
import { expectInts, geometry, gridFixture, gridsOf, maxRowDiff } from "./grid-fixtures.js";

const { headDim, theta } = gridFixture.vision;

describe("vision 2-D rotary equals transformers' rot_pos_emb, in window order", () => {
  for (const c of gridFixture.vision.cases) {
    const name = c.grids.map(([h, w]) => `${h}x${w}`).join(" + ");
    it(`${name}: (row, column) positions exactly, cos/sin within 1e-6`, () => {
      const grids = gridsOf(c);
      const layout = windowLayout(grids, geometry);
      const positions = windowOrderPositions(grids, geometry, layout.windowIndex);
      expectInts(positions, c.rotaryPositions);
      const { cos, sin } = visionRotaryTables(positions, headDim, theta);
      expect(cos.length).toBe(c.patches * headDim);
      expect(maxRowDiff(cos, headDim, c.cosSinRows, c.cos)).toBeLessThan(1e-6);
      expect(maxRowDiff(sin, headDim, c.cosSinRows, c.sin)).toBeLessThan(1e-6);
    });
  }

  it("lists raster-merge positions as the processor's patch order", () => {
    // 2x4 patches: merge units (0,0) and (0,1), each 2x2 in raster order.
    const p = rasterMergePositions([{ h: 2, w: 4 }], geometry);
    expect(Array.from(p)).toEqual([0, 0, 0, 1, 1, 0, 1, 1, 0, 2, 0, 3, 1, 2, 1, 3]);
  });
});
