import { rgbPng } from "../../packages/gateway/test/helpers/png.js";

/**
 * An RGB PNG of any size in the Shapes style (a red disc and a blue square on white), written
 * with zlib, so that tests can send photo-sized images without an image library.
 */
export function shapesPng(width: number, height: number): Uint8Array {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height, 255);
  const r = Math.min(width, height) / 5;
  const [cx, cy] = [width * 0.3, height * 0.5];
  const [sx, sy, side] = [width * 0.6, height * 0.3, r * 1.5];
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const o = row + 1 + x * 3;
      if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) {
        raw[o + 1] = 0;
        raw[o + 2] = 0;
      } else if (x >= sx && x < sx + side && y >= sy && y < sy + side) {
        raw[o] = 0;
        raw[o + 1] = 0;
      }
    }
  }
  return rgbPng(width, height, raw);
}
