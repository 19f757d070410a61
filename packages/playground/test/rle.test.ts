import { rleEncodeRowMajor, rleToCoco } from "@padt/engine";
import { describe, expect, it } from "vitest";
import { decodeMask } from "../src/lib/rle.js";

describe("browser RLE decoder", () => {
  it("reads the engine's COCO strings back to the same row-major mask", () => {
    const [height, width] = [37, 53];
    let seed = 7;
    const mask = Uint8Array.from({ length: height * width }, (_, i) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // Blobs with long runs (large counts exercise the multi-char and delta encodings) and noise.
      return (i % width > 10 && i % width < 40 && i > 300) || seed % 17 === 0 ? 1 : 0;
    });
    const coco = rleToCoco(rleEncodeRowMajor(mask, height, width));
    expect(decodeMask({ width, height, counts: coco.counts })).toEqual(mask);
  });

  it("decodes an empty and a full mask", () => {
    for (const fill of [0, 1]) {
      const mask = new Uint8Array(6 * 4).fill(fill);
      const coco = rleToCoco(rleEncodeRowMajor(mask, 6, 4));
      expect(decodeMask({ width: 4, height: 6, counts: coco.counts })).toEqual(mask);
    }
  });
});
