/**
 * COCO run-length encoding with pycocotools' semantics (common/maskApi.c).
 *
 * A mask of height h and width w is read in column-major (Fortran) order: pixel (y, x) is
 * element x * h + y. `counts` alternates background and foreground run lengths, starting
 * with background (a mask whose first pixel is set starts with a 0 count).
 */
import type { BboxXywh } from "./box.js";

/** Uncompressed RLE: what maskApi.c calls `RLE`. */
export interface Rle {
  height: number;
  width: number;
  counts: number[];
}

function checkSize(length: number, height: number, width: number): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new RangeError(`mask size must be non-negative integers, got ${height} x ${width}`);
  }
  if (length !== height * width) {
    throw new RangeError(`mask has ${length} pixels, expected ${height} x ${width}`);
  }
}

function encodeWith(size: number, at: (i: number) => boolean): number[] {
  const counts: number[] = [];
  let previous = false;
  let run = 0;
  for (let i = 0; i < size; i++) {
    const value = at(i);
    if (value !== previous) {
      counts.push(run);
      run = 0;
      previous = value;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

/**
 * Encodes a binary mask stored column-major (pycocotools `encode(np.asfortranarray(m))`).
 * Any non-zero value is foreground.
 */
export function rleEncode(mask: ArrayLike<number>, height: number, width: number): Rle {
  checkSize(mask.length, height, width);
  return { height, width, counts: encodeWith(height * width, (i) => mask[i] !== 0) };
}

/** Encodes a binary mask stored row-major (pixel (y, x) at y * width + x), as rleEncode would its transpose. */
export function rleEncodeRowMajor(mask: ArrayLike<number>, height: number, width: number): Rle {
  checkSize(mask.length, height, width);
  const counts = encodeWith(height * width, (i) => {
    const x = Math.floor(i / height);
    return mask[(i - x * height) * width + x] !== 0;
  });
  return { height, width, counts };
}

/** Decodes to a column-major 0/1 mask of height * width pixels. */
export function rleDecode(rle: Rle): Uint8Array {
  const out = new Uint8Array(rle.height * rle.width);
  let p = 0;
  let value = 0;
  for (const count of rle.counts) {
    if (p + count > out.length) throw new RangeError("RLE counts exceed the mask size");
    if (value) out.fill(1, p, p + count);
    p += count;
    value = 1 - value;
  }
  return out;
}

/** Decodes to a row-major 0/1 mask (pixel (y, x) at y * width + x). */
export function rleDecodeRowMajor(rle: Rle): Uint8Array {
  const { height, width } = rle;
  const out = new Uint8Array(height * width);
  let p = 0;
  let value = false;
  for (const count of rle.counts) {
    if (p + count > out.length) throw new RangeError("RLE counts exceed the mask size");
    if (value) {
      for (let i = p; i < p + count; i++) {
        const x = Math.floor(i / height);
        out[(i - x * height) * width + x] = 1;
      }
    }
    p += count;
    value = !value;
  }
  return out;
}

/** Number of foreground pixels (rleArea). */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let j = 1; j < rle.counts.length; j += 2) area += rle.counts[j]!;
  return area;
}

/** Tight box [x, y, w, h] of the foreground (rleToBbox); all zeros for an empty mask. */
export function rleToBbox(rle: Rle): BboxXywh {
  const h = rle.height;
  const m = Math.floor(rle.counts.length / 2) * 2;
  if (m === 0) return [0, 0, 0, 0];
  let xs = rle.width;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + rle.counts[j]!) >>> 0;
    // Unsigned 32-bit as maskApi.c: the last pixel of a run ends one before the running sum.
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}
