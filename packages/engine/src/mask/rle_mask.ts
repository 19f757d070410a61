/** Between the engine's RleMask (what the API returns) and the uncompressed Rle. */
import type { RleMask } from "../generation/types.js";
import { type Rle, rleArea } from "./rle.js";
import { countsFromString, countsToString } from "./rle_string.js";

export function rleToMask(rle: Rle): RleMask {
  return {
    height: rle.height,
    width: rle.width,
    counts: countsToString(rle.counts),
    area: rleArea(rle),
  };
}

export function rleFromMask(mask: RleMask): Rle {
  return { height: mask.height, width: mask.width, counts: countsFromString(mask.counts) };
}
