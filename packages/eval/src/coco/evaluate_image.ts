/** COCOeval.computeIoU and COCOeval.evaluateImg for one image and category. */
import { type BboxXywh, bboxIou, type Rle, rleIou } from "@padt/mask";
import { IOU_THRESHOLDS } from "./params.js";
import type { EvalObject, IouType } from "./types.js";

/** Highest score first; ties keep their order (numpy's mergesort is stable, so is Array.sort). */
export function byScore<T extends { score: number }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => b.item.score - a.item.score || a.index - b.index)
    .map(({ item }) => item);
}

/** IoU matrix [detection][groundTruth] over the top maxDet detections by score. */
export function computeIou(
  gts: readonly EvalObject[],
  dts: readonly EvalObject[],
  iouType: IouType,
  maxDet: number,
): number[][] {
  if (gts.length === 0 || dts.length === 0) return [];
  const sorted = byScore(dts).slice(0, maxDet);
  const crowd = gts.map((g) => g.iscrowd);
  if (iouType === "segm") {
    return rleIou(
      sorted.map((d) => d.rle as Rle),
      gts.map((g) => g.rle as Rle),
      crowd,
    );
  }
  return bboxIou(
    sorted.map((d) => d.bbox as BboxXywh),
    gts.map((g) => g.bbox as BboxXywh),
    crowd,
  );
}

export interface ImageEval {
  /** Detections kept (top maxDet by score), in score order. */
  dtScores: number[];
  /** [threshold][detection]: matched ground-truth id, 0 when unmatched. */
  dtMatches: number[][];
  /** [threshold][detection]. */
  dtIgnore: boolean[][];
  /** Per ground truth, ignored ones last. */
  gtIgnore: boolean[];
}

export function evaluateImage(
  gts: readonly EvalObject[],
  dts: readonly EvalObject[],
  ious: number[][],
  areaRange: readonly [number, number],
  maxDet: number,
): ImageEval | null {
  if (gts.length === 0 && dts.length === 0) return null;
  const [lo, hi] = areaRange;
  const outside = (area: number) => area < lo || area > hi;
  const gtIgnoreAll = gts.map((g) => g.iscrowd || outside(g.area));
  // Stable: non-ignored ground truths first.
  const gtOrder = gts.map((_, i) => i).sort((a, b) => +gtIgnoreAll[a]! - +gtIgnoreAll[b]!);
  const gt = gtOrder.map((i) => gts[i]!);
  const gtIgnore = gtOrder.map((i) => gtIgnoreAll[i]!);
  const dt = byScore(dts).slice(0, maxDet);
  const T = IOU_THRESHOLDS.length;
  const gtMatched = Array.from({ length: T }, () => new Array<number>(gt.length).fill(0));
  const dtMatches = Array.from({ length: T }, () => new Array<number>(dt.length).fill(0));
  const dtIgnore = Array.from({ length: T }, () => new Array<boolean>(dt.length).fill(false));
  if (ious.length > 0) {
    IOU_THRESHOLDS.forEach((threshold, t) => {
      dt.forEach((d, di) => {
        let best = Math.min(threshold, 1 - 1e-10);
        let m = -1;
        for (let gi = 0; gi < gt.length; gi++) {
          // A ground truth matches once, except a crowd region.
          if (gtMatched[t]![gi]! > 0 && !gt[gi]!.iscrowd) continue;
          // Matched to a regular ground truth: stop at the first ignored one.
          if (m > -1 && !gtIgnore[m] && gtIgnore[gi]) break;
          const iou = ious[di]![gtOrder[gi]!]!;
          if (iou < best) continue;
          best = iou;
          m = gi;
        }
        if (m === -1) return;
        dtIgnore[t]![di] = gtIgnore[m]!;
        dtMatches[t]![di] = gt[m]!.id;
        gtMatched[t]![m] = d.id;
      });
    });
  }
  // Unmatched detections outside the area range are ignored.
  for (let t = 0; t < T; t++) {
    dt.forEach((d, di) => {
      if (dtMatches[t]![di] === 0 && outside(d.area)) dtIgnore[t]![di] = true;
    });
  }
  return { dtScores: dt.map((d) => d.score), dtMatches, dtIgnore, gtIgnore };
}
