/**
 * REC: Acc@0.5, the share of expressions whose predicted box has IoU >= 0.5 with the annotated
 * box (PADT_MODEL.md section 6). A missing prediction counts as a miss.
 */
import type { Box } from "@padt/engine";
import { boxIou } from "./box.js";

export interface RecSample {
  id: string | number;
  groundTruth: Box;
  /** null when the answer pointed at nothing. */
  prediction: Box | null;
}

export interface RecMetrics {
  samples: number;
  /** Share of samples with IoU >= 0.5, in [0, 1]. */
  accAt50: number;
  /** Mean box IoU (misses count as 0). */
  meanIou: number;
  /** Samples without a prediction. */
  missing: number;
}

export const REC_IOU_THRESHOLD = 0.5;

export function recSampleIou(sample: RecSample): number {
  return sample.prediction ? boxIou(sample.prediction, sample.groundTruth) : 0;
}

export function recMetrics(samples: readonly RecSample[]): RecMetrics {
  const ious = samples.map(recSampleIou);
  const n = samples.length;
  return {
    samples: n,
    accAt50: n ? ious.filter((v) => v >= REC_IOU_THRESHOLD).length / n : 0,
    meanIou: n ? ious.reduce((s, v) => s + v, 0) / n : 0,
    missing: samples.filter((s) => s.prediction === null).length,
  };
}
