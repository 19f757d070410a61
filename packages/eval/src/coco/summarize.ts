/** COCOeval.summarize for detection: the 12 standard stats. */
import { type AreaLabel, IOU_THRESHOLDS, MAX_DETS } from "./params.js";

export const STAT_NAMES = [
  "AP",
  "AP50",
  "AP75",
  "APs",
  "APm",
  "APl",
  "AR1",
  "AR10",
  "AR100",
  "ARs",
  "ARm",
  "ARl",
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/** What summarize reads: precision [t][r] and recall [t], per category, area and maxDets. */
export interface Curves {
  precision(k: number, area: AreaLabel, maxDet: number): number[][];
  recall(k: number, area: AreaLabel, maxDet: number): number[];
  categories: number;
}

function meanValid(values: Iterable<number>): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v > -1) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? -1 : sum / n;
}

function thresholdIndices(iouThr: number | undefined): number[] {
  return IOU_THRESHOLDS.flatMap((t, i) => (iouThr === undefined || t === iouThr ? [i] : []));
}

function* precisionValues(c: Curves, area: AreaLabel, maxDet: number, iouThr?: number) {
  const ts = thresholdIndices(iouThr);
  for (let k = 0; k < c.categories; k++) {
    const p = c.precision(k, area, maxDet);
    for (const t of ts) yield* p[t]!;
  }
}

function* recallValues(c: Curves, area: AreaLabel, maxDet: number, iouThr?: number) {
  const ts = thresholdIndices(iouThr);
  for (let k = 0; k < c.categories; k++) {
    const r = c.recall(k, area, maxDet);
    for (const t of ts) yield r[t]!;
  }
}

/** -1 marks a stat without ground truth, as pycocotools. */
export function summarize(c: Curves): Record<StatName, number> {
  const [m1, m10, m100] = MAX_DETS as [number, number, number];
  const ap = (area: AreaLabel, maxDet: number, iouThr?: number) =>
    meanValid(precisionValues(c, area, maxDet, iouThr));
  const ar = (area: AreaLabel, maxDet: number) => meanValid(recallValues(c, area, maxDet));
  return {
    AP: ap("all", m100),
    AP50: ap("all", m100, 0.5),
    AP75: ap("all", m100, 0.75),
    APs: ap("small", m100),
    APm: ap("medium", m100),
    APl: ap("large", m100),
    AR1: ar("all", m1),
    AR10: ar("all", m10),
    AR100: ar("all", m100),
    ARs: ar("small", m100),
    ARm: ar("medium", m100),
    ARl: ar("large", m100),
  };
}

/** AP over IoU .50:.95, all areas, 100 detections, for category index k alone. */
export function categoryAP(c: Curves, k: number): number {
  return meanValid(c.precision(k, "all", MAX_DETS[MAX_DETS.length - 1]!).flat());
}
