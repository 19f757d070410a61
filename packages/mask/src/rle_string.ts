/**
 * COCO's compressed RLE string (maskApi.c rleToString / rleFrString): each count, from the
 * fourth on as the difference to the count two before it, is written little-endian in 5-bit
 * groups, one character (48 + bits) per group, 0x20 marking "more groups follow" and 0x10 of
 * the last group giving the sign. Arithmetic here uses doubles, exact for counts below 2^52.
 */
import type { Rle } from "./rle.js";

/** The JSON form COCO files and pycocotools use: size is [height, width]. */
export interface CocoRle {
  size: [number, number];
  counts: string | number[];
}

export function countsToString(counts: readonly number[]): string {
  let s = "";
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // x & 0x1f for a two's-complement x
      x = Math.floor(x / 32); // arithmetic shift
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

export function countsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new SyntaxError("truncated COCO RLE string");
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new SyntaxError(`invalid character in COCO RLE string at ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k); // sign extension
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2]!;
    counts.push(x);
  }
  return counts;
}

/** Compressed COCO form, as pycocotools `encode` returns it (counts as a string). */
export function rleToCoco(rle: Rle): CocoRle & { counts: string } {
  return { size: [rle.height, rle.width], counts: countsToString(rle.counts) };
}

/** Reads a COCO RLE, compressed (string counts) or uncompressed (number counts, as crowd annotations). */
export function rleFromCoco(obj: CocoRle): Rle {
  const [height, width] = obj.size;
  if (!Number.isInteger(height) || !Number.isInteger(width)) {
    throw new TypeError("COCO RLE size must be [height, width] integers");
  }
  const counts = typeof obj.counts === "string" ? countsFromString(obj.counts) : [...obj.counts];
  return { height, width, counts };
}
