/**
 * RES metrics (PADT_MODEL.md section 6).
 * - mIoU: per-sample mask IoU averaged over samples. The PaDT reference script reports this
 *   number and calls it "cIoU".
 * - cIoU: true cumulative IoU, total intersection over total union across all samples.
 * - Pr@X: share of samples with IoU >= X.
 * A sample whose union is empty has IoU 0, as the reference (`i/u if u>0 else 0.0`); a missing
 * prediction is an empty mask.
 */
import { type Rle, rleArea, rleIntersectionUnion } from "@padt/mask";

export interface ResSample {
  id: string | number;
  groundTruth: Rle;
  /** null when the answer pointed at nothing; else the same size as the ground truth. */
  prediction: Rle | null;
}

export interface ResMetrics {
  samples: number;
  /** Mean of per-sample IoU (what the reference calls cIoU). */
  mIoU: number;
  /** Sum of intersections over sum of unions. */
  cIoU: number;
  /** Share of samples with IoU >= threshold, keyed "0.5" ... "0.9". */
  precisionAt: Record<string, number>;
  missing: number;
}

export const RES_PRECISION_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9] as const;

export function resSampleCounts(sample: ResSample): { intersection: number; union: number } {
  if (sample.prediction === null) return { intersection: 0, union: rleArea(sample.groundTruth) };
  return rleIntersectionUnion(sample.prediction, sample.groundTruth);
}

export function resMetrics(samples: readonly ResSample[]): ResMetrics {
  const counts = samples.map(resSampleCounts);
  const ious = counts.map(({ intersection, union }) => (union > 0 ? intersection / union : 0));
  const n = samples.length;
  const totalI = counts.reduce((s, c) => s + c.intersection, 0);
  const totalU = counts.reduce((s, c) => s + c.union, 0);
  const precisionAt: Record<string, number> = {};
  for (const t of RES_PRECISION_THRESHOLDS) {
    precisionAt[String(t)] = n ? ious.filter((v) => v >= t).length / n : 0;
  }
  return {
    samples: n,
    mIoU: n ? ious.reduce((s, v) => s + v, 0) / n : 0,
    cIoU: totalU > 0 ? totalI / totalU : 0,
    precisionAt,
    missing: samples.filter((s) => s.prediction === null).length,
  };
}
