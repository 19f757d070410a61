/** The compressed mask the engine's API returns, to and from the uncompressed Rle. */
import { type Rle, rleArea } from "./rle.js";
import { countsFromString, countsToString } from "./rle_string.js";

/**
 * COCO compressed RLE (the column-major counts string) with its size and foreground area;
 * decodes identically in pycocotools.
 */
export interface RleMask {
  height: number;
  width: number;
  counts: string;
  area: number;
}

export function rleToMask(rle: Rle): RleMask {
  return {
    height: rle.height,
    width: rle.width,
    counts: countsToString(rle.counts),
    area: rleArea(rle),
  };
}

/** The area is not needed (nor checked): it follows from the counts. */
export function rleFromMask(mask: Pick<RleMask, "height" | "width" | "counts">): Rle {
  return { height: mask.height, width: mask.width, counts: countsFromString(mask.counts) };
}
