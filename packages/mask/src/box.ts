/**
 * Box IoU with pycocotools' semantics (maskApi.c bbIou): the one box IoU of the repository,
 * used by the COCO evaluation, the REC/RIC metrics and the mask IoU's box pre-check.
 */

/** A box as COCO writes it: [x, y, width, height]. */
export type BboxXywh = [number, number, number, number];

/**
 * IoU of two [x, y, w, h] boxes in continuous coordinates; 0 when they do not overlap (which
 * also covers an empty union, and NaN sides). For a crowd `g` the union is `d`'s area alone.
 */
export function bboxPairIou(d: Readonly<BboxXywh>, g: Readonly<BboxXywh>, crowd = false): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (!(w > 0)) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (!(h > 0)) return 0;
  const i = w * h;
  const da = d[2] * d[3];
  return i / (crowd ? da : da + g[2] * g[3] - i);
}

/**
 * Box IoU matrix, indexed [detection][groundTruth] (pycocotools `iou` on boxes); `iscrowd[j]`
 * marks ground truth j as a crowd region.
 */
export function bboxIou(
  dt: readonly Readonly<BboxXywh>[],
  gt: readonly Readonly<BboxXywh>[],
  iscrowd: readonly boolean[] = [],
): number[][] {
  return dt.map((d) => gt.map((g, j) => bboxPairIou(d, g, iscrowd[j] ?? false)));
}
