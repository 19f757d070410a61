/**
 * The bundle's cap on the vision tower's input (manifest image_processor.max_long_side): an
 * image with a longer side is resized down to it before smart_resize, so the patch count, and
 * with it the tower's dense attention, stays bounded whatever the upload (issue 14.3).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "@padt/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { bundleProcessorConfig } from "../src/engine/processor_config.js";
import { resizeRgb } from "../src/image/resize.js";
import type { RgbImage } from "../src/image/types.js";
import { modelInputSize, preprocessImage } from "../src/models/padt/image_processing.js";
import { capLongSideSize } from "../src/models/padt/pre_resize.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const shapes = new URL("../../../models/padt-tiny-shapes", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "padt-cap-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function noise(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = 7;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

describe("the cap on the long side", () => {
  it.each([
    // [height, width] -> [height, width]: floor(side * cap / long), in integers
    [2000, 3000, [298, 448]],
    [6000, 8000, [336, 448]],
    [448, 300, [448, 300]],
    // a thin image keeps the 28 px the processor needs (and its own side when under 28)
    [25, 5000, [25, 448]],
    [100, 5000, [28, 448]],
  ])("%i x %i (h x w) becomes %j", (height, width, want) => {
    expect(capLongSideSize(height, width, 448)).toEqual(want);
  });

  it("bounds the grid of any image by the cap", () => {
    for (const [h, w] of [
      [2000, 3000],
      [6000, 8000],
      [12000, 61],
      [4000, 4000],
    ] as const) {
      const size = modelInputSize(h, w, { longSide: null, maxLongSide: 448 });
      expect(Math.max(size.height, size.width)).toBeLessThanOrEqual(448);
    }
    expect(modelInputSize(2000, 3000, { longSide: null, maxLongSide: 448 })).toMatchObject({
      gridWidth: 16,
      gridHeight: 11,
    });
    // The demo's pre-resize already lands at 644; a lower cap applies after it.
    expect(modelInputSize(2000, 3000, { longSide: 644, maxLongSide: 644 })).toEqual(
      modelInputSize(2000, 3000, { longSide: 644, maxLongSide: null }),
    );
    expect(modelInputSize(2000, 3000, { longSide: 644, maxLongSide: 448 }).width).toBe(448);
  });

  it("is a Pillow-exact LANCZOS resize to the capped size, then the usual processing", () => {
    const image = noise(1000, 600);
    const capped = preprocessImage(image, { longSide: null, maxLongSide: 448 });
    const byHand = preprocessImage(resizeRgb(image, 448, 268, "lanczos"), { longSide: null });
    expect(capped.gridThw).toEqual(byHand.gridThw);
    expect(
      Buffer.from(capped.pixelValues.buffer).equals(Buffer.from(byHand.pixelValues.buffer)),
    ).toBe(true);
    const size = modelInputSize(600, 1000, { longSide: null, maxLongSide: 448 });
    expect([size.gridHeight * 2, size.gridWidth * 2]).toEqual(capped.gridThw.slice(1));
  });
});

describe("max_long_side in the manifest", () => {
  it("is read from the shipped bundles: 448 px for Shapes (its training size), 644 px for imports", async () => {
    const m = await loadManifest(shapes, "size");
    expect(m.image_processor.max_long_side).toBe(448);
    expect(bundleProcessorConfig(m, undefined)).toMatchObject({ maxLongSide: 448, longSide: null });
    expect((await loadManifest(bundle, "size")).image_processor.max_long_side).toBe(644);
  });

  it.each([
    ["missing", undefined],
    ["not a multiple of 28", 450],
    ["zero", 0],
  ])("refuses a manifest whose max_long_side is %s", async (name, value) => {
    const dir = join(scratch, name.replaceAll(" ", "-"));
    cpSync(bundle, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, "padt.json"), "utf8"));
    m.image_processor.max_long_side = value;
    writeFileSync(join(dir, "padt.json"), JSON.stringify(m));
    await expect(loadManifest(dir, "size")).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_INVALID,
      message: expect.stringMatching(/max_long_side/),
    });
  });
});
