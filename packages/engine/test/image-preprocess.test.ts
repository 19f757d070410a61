import { describe, expect, it } from "vitest";
import { decodeImage } from "../src/image/decode.js";
import {
  modelInputSize,
  PreprocessCache,
  preprocessImage,
} from "../src/models/padt/image_processing.js";
import { fixtureBytes, fixtures, summarise } from "./image-fixtures.js";

const ROW = 1176;
// Tolerance on slices if the bytes ever differ: one uint8 step after normalisation,
// 1 / (255 * min std) = 0.0150. Today the tensors are identical (sha256 equal, diff 0).
const TOLERANCE = 1 / (255 * 0.26130258) + 1e-6;

function expectClose(got: number[], want: number[]) {
  expect(got.length).toBe(want.length);
  const diff = Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
  expect(diff).toBeLessThanOrEqual(TOLERANCE);
}

describe("preprocessImage matches Qwen2VLImageProcessor (transformers 4.50.3)", () => {
  for (const image of fixtures.images) {
    for (const ref of image.preprocess) {
      it(`${image.file}, longSide ${ref.longSide}`, async () => {
        const decoded = await decodeImage(fixtureBytes(image.file));
        expect([decoded.width, decoded.height]).toEqual([image.width, image.height]);
        const out = preprocessImage(decoded, { longSide: ref.longSide });
        expect([out.resizedHeight, out.resizedWidth]).toEqual(ref.resized);
        // The size-only computation agrees with the pixel pipeline.
        const size = modelInputSize(image.height, image.width, { longSide: ref.longSide });
        expect([size.height, size.width]).toEqual(ref.resized);
        expect([size.gridHeight, size.gridWidth]).toEqual([
          ref.gridThw[1]! / 2,
          ref.gridThw[2]! / 2,
        ]);
        expect(out.gridThw).toEqual(ref.gridThw);
        expect([out.originalHeight, out.originalWidth]).toEqual([image.height, image.width]);
        expect(out.pixelValues.length).toBe(ref.shape[0]! * ROW);
        const got = summarise(out.pixelValues, ROW);
        expectClose(got.first, ref.first);
        expectClose(got.middle, ref.middle);
        expectClose(got.lastTail, ref.lastTail);
        expect(Math.abs(got.sum - ref.sum)).toBeLessThan(1e-3 * ref.shape[0]!);
        expect(got.sha256).toBe(ref.sha256);
      });
    }
  }

  it("caches by content hash and settings", async () => {
    const image = fixtures.images.find((i) => i.file === "rgb_200x150.png")!;
    const decoded = await decodeImage(fixtureBytes(image.file));
    const cache = new PreprocessCache(16 * 1024 * 1024);
    const a = cache.get(decoded.sha256, decoded);
    // Identity checks as booleans: vitest's diff of two large tensors is slow.
    expect(cache.get(decoded.sha256, decoded) === a).toBe(true);
    const b = cache.get(decoded.sha256, decoded, { longSide: null });
    expect(b === a).toBe(false);
    expect(cache.bytes).toBe(a.pixelValues.byteLength + b.pixelValues.byteLength);
    // A cache too small for one result stores nothing and still answers.
    const tiny = new PreprocessCache(1024);
    expect(tiny.get(decoded.sha256, decoded).gridThw).toEqual(a.gridThw);
    expect(tiny.bytes).toBe(0);
  });
});
