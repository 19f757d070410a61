import { describe, expect, it } from "vitest";
import { segmentIds, windowBatch, windowLayout } from "../src/models/padt/vision_grid.js";
import { geometry, gridFixture, gridsOf } from "./grid-fixtures.js";

describe("windows as a padded batch (the vision graph's window_slots / window_rows)", () => {
  it("left-aligns each window's rows and pads the shorter ones with -1", () => {
    const batch = windowBatch(Int32Array.from([0, 3, 4, 6]));
    expect(batch.count).toBe(3);
    expect(batch.length).toBe(3);
    expect(Array.from(batch.slots)).toEqual([0, 1, 2, 3, -1, -1, 4, 5, -1]);
    expect(Array.from(batch.rows)).toEqual([0, 1, 2, 3, 6, 7]);
  });

  for (const c of gridFixture.vision.cases) {
    const name = c.grids.map(([h, w]) => `${h}x${w}`).join(" + ");
    it(`${name}: every row sits in its own window's slot, and rows inverts slots`, () => {
      const layout = windowLayout(gridsOf(c), geometry);
      const batch = windowBatch(layout.cuWindowSeqlens);
      const window = segmentIds(layout.cuWindowSeqlens);
      expect(batch.rows.length).toBe(layout.patches);
      expect(batch.slots.length).toBe(batch.count * batch.length);
      for (let row = 0; row < layout.patches; row++) {
        const slot = batch.rows[row]!;
        expect(batch.slots[slot]).toBe(row);
        expect(Math.floor(slot / batch.length)).toBe(window[row]);
      }
      const filled = batch.slots.filter((s) => s >= 0).length;
      expect(filled).toBe(layout.patches);
    });
  }
});
