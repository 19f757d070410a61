import { describe, expect, it } from "vitest";
import { decodeImage } from "../src/image/decode.js";
import { resizeRgb } from "../src/image/resize.js";
import { fixtureBytes, fixtures, summarise } from "./image-fixtures.js";

// The resampler must give Pillow's bytes exactly: the fixtures hold sha256 of PIL's output.
describe("resizeRgb matches Pillow's Image.resize", () => {
  for (const image of fixtures.images) {
    for (const c of image.resize) {
      it(`${image.file} -> ${c.width}x${c.height} ${c.filter}`, async () => {
        const decoded = await decodeImage(fixtureBytes(image.file));
        const out = resizeRgb(decoded, c.width, c.height, c.filter);
        const got = summarise(out.data, c.width * 3);
        expect(got.first).toEqual(c.first);
        expect(got.middle).toEqual(c.middle);
        expect(got.lastTail).toEqual(c.lastTail);
        expect(got.sum).toBe(c.sum);
        expect(got.sha256).toBe(c.sha256);
      });
    }
  }
});
