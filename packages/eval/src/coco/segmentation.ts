/** COCO.annToRLE: any COCO segmentation to one RLE, as pycocotools reads it. */
import { type Rle, rleFromCoco, rleFromPolygon, rleMerge } from "@padt/mask";
import type { CocoSegmentation } from "./types.js";

/**
 * Polygons (a list of parts, each [x0, y0, x1, y1, ...]) are rasterised at the image size and
 * merged; RLEs, compressed or not, keep their own size. pycocotools reads a first part of 4
 * numbers as a box array and fails on a list: rejected here with a message.
 */
export function segmentationToRle(
  segmentation: CocoSegmentation,
  height: number,
  width: number,
  what: string,
): Rle {
  if (!Array.isArray(segmentation)) return rleFromCoco(segmentation);
  const first = segmentation[0];
  if (!first || first.length <= 4) {
    throw new Error(`${what}: a polygon segmentation needs at least 3 points in its first part`);
  }
  return rleMerge(segmentation.map((part) => rleFromPolygon(part, height, width)));
}
