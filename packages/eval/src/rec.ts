/**
 * REC: Acc@0.5, the share of expressions whose predicted box has IoU >= 0.5 with the annotated
 * box (PADT_MODEL.md section 6). A missing prediction counts as a miss. Which box is "the"
 * prediction: ours (the REC plugin's product behaviour) takes the answer's first object
 * whatever its label; the paper's (PaDT eval_refcoco.py) takes only objects whose label equals
 * the expression and the best IoU among them (paperRecSample), so its numbers compare with
 * the published ones.
 */
import type { Box } from "@padt/protocol";
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

/** One object of an answer, as the paper's rule reads it. */
export interface LabelledBox {
  label: string;
  box: Box;
}

/**
 * The paper's rule: among the answer's objects whose label is exactly the expression, the one
 * with the best IoU; null when no label matches (a miss, even if other objects hit the box).
 */
export function paperRecSample(
  id: string | number,
  groundTruth: Box,
  expression: string,
  objects: readonly LabelledBox[],
): RecSample {
  let prediction: Box | null = null;
  let best = -1;
  for (const o of objects) {
    if (o.label !== expression) continue;
    const iou = boxIou(o.box, groundTruth);
    if (iou > best) {
      best = iou;
      prediction = o.box;
    }
  }
  return { id, groundTruth, prediction };
}
