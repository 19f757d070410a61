import type { Box } from "@padt/protocol";

/**
 * The decoder's (cx, cy, w, h) in [0, 1] of the resized image to a box in original pixels,
 * clamped as the reference evaluation does (x, y >= 0; w, h <= 1) but not rounded: the
 * reference rounds for its COCO files, which the evaluation harness does itself.
 */
export function boxToPixels(cxcywh: ArrayLike<number>, width: number, height: number): Box {
  const [cx, cy, w, h] = [0, 1, 2, 3].map((i) => cxcywh[i] as number) as [
    number,
    number,
    number,
    number,
  ];
  return {
    x: Math.max(cx - w / 2, 0) * width,
    y: Math.max(cy - h / 2, 0) * height,
    width: Math.min(w, 1) * width,
    height: Math.min(h, 1) * height,
  };
}

/** Source index and weight as torch's bilinear interpolation with align_corners=False. */
function sourceTaps(
  outSize: number,
  inSize: number,
): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(scale * (d + 0.5) - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = src - lo;
  }
  return { i0, i1, w1 };
}

/**
 * The decoder's mask logits to a binary mask of the original image, as the reference:
 * crop the valid (4*H14) x (4*W14) region of the map, bilinear-resize it to height x width,
 * keep sigmoid > 0.5 (logit > 0). Returned column-major (COCO RLE order).
 */
export function maskFromLogits(
  logits: Float32Array,
  map: { rows: number; cols: number },
  valid: { rows: number; cols: number },
  out: { height: number; width: number },
): Uint8Array {
  const ys = sourceTaps(out.height, valid.rows);
  const xs = sourceTaps(out.width, valid.cols);
  const mask = new Uint8Array(out.height * out.width);
  const at = (r: number, c: number) => logits[r * map.cols + c] as number;
  for (let x = 0; x < out.width; x++) {
    const c0 = xs.i0[x] as number;
    const c1 = xs.i1[x] as number;
    const wx = xs.w1[x] as number;
    for (let y = 0; y < out.height; y++) {
      const r0 = ys.i0[y] as number;
      const r1 = ys.i1[y] as number;
      const wy = ys.w1[y] as number;
      const top = at(r0, c0) * (1 - wx) + at(r0, c1) * wx;
      const bottom = at(r1, c0) * (1 - wx) + at(r1, c1) * wx;
      mask[x * out.height + y] = top * (1 - wy) + bottom * wy > 0 ? 1 : 0;
    }
  }
  return mask;
}
