/** A COCO mask: compressed RLE counts, column-major, of an image of width x height. */
export interface RleMask {
  width: number;
  height: number;
  counts: string;
}

/** Decodes COCO's compressed counts string (pycocotools' rleFrString) to run lengths. */
export function decodeCounts(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let value = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      value |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) value |= -1 << (5 * k);
    }
    if (counts.length > 2) value += counts[counts.length - 2]!;
    counts.push(value);
  }
  return counts;
}

/** The mask as one byte per pixel, row-major (1 = inside). Runs alternate 0,1,0,... column-major. */
export function decodeMask(mask: RleMask): Uint8Array {
  const { width, height } = mask;
  const out = new Uint8Array(width * height);
  let i = 0;
  let on = false;
  for (const run of decodeCounts(mask.counts)) {
    if (on) {
      for (let j = i; j < i + run && j < out.length; j++) {
        out[(j % height) * width + Math.floor(j / height)] = 1;
      }
    }
    i += run;
    on = !on;
  }
  return out;
}
