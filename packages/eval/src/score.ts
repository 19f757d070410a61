/**
 * Scores the samples a task plugin's evaluation adapter made (one metric family per task), with
 * this package's metrics and, under evaluate.py's own keys, the PyTorch reference's numbers:
 * predicted boxes are rounded half to even first, as the reference's round_box does.
 */
import { type Rle, rleFromCoco } from "@padt/mask";
import type {
  BoxSample,
  CaptionSample,
  CustomMetrics,
  DetectionSample,
  EvalDataset,
  EvalMetric,
  EvalSample,
  EvalSegmentation,
  MaskSample,
  TaskEvaluation,
} from "@padt/task-api";
import type { CocoDataset, CocoDetection } from "./coco/index.js";
import { cocoEvaluate } from "./coco/index.js";
import { paperRecSample, type RecMetrics, type RecSample, recMetrics } from "./rec.js";
import { groundedPhrases, matchOneToOne, roundBox, toXywh } from "./reference.js";
import type { OvdMetrics } from "./report.js";
import { type ResMetrics, resMetrics } from "./res.js";
import { type RicMetrics, ricMetrics } from "./ric.js";

/** RIC's metrics and evaluate.py's two: its phrase accuracy is what the model card reports. */
export interface CaptionMetrics extends RicMetrics {
  /** evaluate.py's grounded_phrase_acc: correct phrases over annotated phrases. */
  referencePhraseAccuracy: number;
  /** evaluate.py's grounded_object_recall: annotated boxes matched one to one. */
  referenceObjectRecall: number;
}

export type ScoredMetrics =
  | { metric: "box"; metrics: BoxMetrics }
  | { metric: "mask"; metrics: ResMetrics }
  | { metric: "detection"; metrics: OvdMetrics }
  | { metric: "caption"; metrics: CaptionMetrics }
  | { metric: "custom"; metrics: CustomMetrics };

export type Scored = ScoredMetrics & {
  /** The PyTorch reference's numbers under evaluate.py's keys (none for a family it lacks). */
  reference: Record<string, number>;
};

function only<M extends EvalMetric>(
  metric: M,
  samples: readonly EvalSample[],
): Extract<EvalSample, { metric: M }>[] {
  const other = samples.find((s) => s.metric !== metric);
  if (other) throw new Error(`a "${other.metric}" sample among "${metric}" samples`);
  return samples as Extract<EvalSample, { metric: M }>[];
}

function rle(segmentation: EvalSegmentation, what: string): Rle {
  if (Array.isArray(segmentation)) throw new Error(`${what}: a polygon, not an RLE segmentation`);
  return rleFromCoco(segmentation);
}

/** REC's metrics; `paper`: the paper's rule; `subsets`: each tagged subset scored alone. */
export type BoxMetrics = RecMetrics & { paper?: RecMetrics; subsets?: Record<string, RecMetrics> };

function scoreBoxes(samples: readonly BoxSample[]): Scored {
  const ours: RecSample[] = samples.map((s) => ({
    id: s.id,
    groundTruth: s.groundTruth,
    prediction: s.prediction ? roundBox(s.prediction) : null,
  }));
  const metrics: BoxMetrics = recMetrics(ours);
  const tags = [...new Set(samples.flatMap((s) => s.subsets ?? []))].sort();
  if (tags.length > 0)
    metrics.subsets = Object.fromEntries(
      tags.map((tag) => [
        tag,
        recMetrics(ours.filter((_, i) => samples[i]!.subsets?.includes(tag))),
      ]),
    );
  if (samples.some((s) => s.objects !== undefined)) {
    metrics.paper = recMetrics(
      samples.map((s) =>
        paperRecSample(
          s.id,
          s.groundTruth,
          s.expression ?? "",
          (s.objects ?? []).map((o) => ({ label: o.label, box: roundBox(o.box) })),
        ),
      ),
    );
  }
  return {
    metric: "box",
    metrics,
    reference: { queries: samples.length, "acc@0.5": metrics.accAt50 },
  };
}

function scoreMasks(samples: readonly MaskSample[]): Scored {
  const metrics = resMetrics(
    samples.map((s) => ({
      id: s.id,
      groundTruth: rle(s.groundTruth, `sample ${s.id}`),
      prediction: s.prediction
        ? rleFromCoco({
            size: [s.prediction.height, s.prediction.width],
            counts: s.prediction.counts,
          })
        : null,
    })),
  );
  // Differs only when a ground-truth mask and the prediction are both empty: the reference
  // counts IoU 1 there, this package 0 (Shapes masks are never empty).
  return {
    metric: "mask",
    metrics,
    reference: { queries: samples.length, mIoU: metrics.mIoU, cIoU: metrics.cIoU },
  };
}

function scoreDetections(samples: readonly DetectionSample[], data: EvalDataset): Scored {
  // The reference appends an image once per query; pycocotools keeps one per id.
  const imageIds = new Set(samples.map((s) => s.imageId));
  const gts = samples.flatMap((s) => s.groundTruth);
  const withMasks =
    data.annotations.every((a) => a.segmentation !== undefined) &&
    samples.every((s) => s.detections.every((d) => d.mask !== undefined));
  const dets: CocoDetection[] = samples.flatMap((s) =>
    s.detections.map((d) => ({
      image_id: s.imageId,
      category_id: d.categoryId,
      bbox: toXywh(roundBox(d.box)),
      score: d.score,
      ...(withMasks && d.mask
        ? { segmentation: { size: [d.mask.height, d.mask.width], counts: d.mask.counts } }
        : {}),
    })),
  );
  const dataset: CocoDataset = {
    images: data.images.filter((i) => imageIds.has(i.id)),
    categories: data.categories,
    annotations: gts,
  };
  const bbox = cocoEvaluate(dataset, dets, "bbox");
  // Mask mAP is ours only: the reference scores boxes.
  const segm = withMasks ? cocoEvaluate(dataset, dets, "segm") : undefined;
  // The reference returns 0 without detections or ground truth, and clamps -1 to 0.
  const empty = dets.length === 0 || gts.length === 0;
  const clamp = (v: number) => (empty ? 0 : Math.max(0, v));
  return {
    metric: "detection",
    metrics: segm ? { bbox, segm } : { bbox },
    reference: {
      images: imageIds.size,
      detections: dets.length,
      mAP: clamp(bbox.named.AP),
      AP50: clamp(bbox.named.AP50),
    },
  };
}

function scoreCaptions(samples: readonly CaptionSample[]): Scored {
  let phrasesOk = 0;
  let phrasesAll = 0;
  let objectsOk = 0;
  let objectsAll = 0;
  const ric = samples.map((s) => {
    const predBoxes = s.objectBoxes.map(roundBox);
    const [ok, total] = groundedPhrases(s.segments, predBoxes, s.referencePhrases);
    phrasesOk += ok;
    phrasesAll += total;
    objectsOk += matchOneToOne(predBoxes, s.groundTruthBoxes);
    objectsAll += s.groundTruthBoxes.length;
    return {
      id: s.id,
      referenceCaptions: [s.referenceCaption],
      referencePhrases: s.referencePhrases,
      caption: s.caption,
      phrases: s.phrases.map((p) => ({ text: p.text, boxes: p.boxes.map(roundBox) })),
    };
  });
  const referencePhraseAccuracy = phrasesAll ? phrasesOk / phrasesAll : 0;
  const referenceObjectRecall = objectsAll ? objectsOk / objectsAll : 0;
  return {
    metric: "caption",
    metrics: { ...ricMetrics(ric), referencePhraseAccuracy, referenceObjectRecall },
    reference: {
      phrases: phrasesAll,
      grounded_phrase_acc: referencePhraseAccuracy,
      grounded_object_recall: referenceObjectRecall,
    },
  };
}

/**
 * The metrics of one task's samples, all of its adapter's family: this package's scorers, or
 * for "custom" the plugin's own `score`.
 */
export function scoreSamples(
  evaluation: Pick<TaskEvaluation, "metric" | "score">,
  samples: readonly EvalSample[],
  data: EvalDataset,
): Scored {
  const { metric } = evaluation;
  switch (metric) {
    case "box":
      return scoreBoxes(only("box", samples));
    case "mask":
      return scoreMasks(only("mask", samples));
    case "detection":
      return scoreDetections(only("detection", samples), data);
    case "caption":
      return scoreCaptions(only("caption", samples));
    case "custom": {
      if (!evaluation.score) throw new Error('the "custom" metric needs the adapter\'s score');
      // evaluate.py knows no such task: no reference numbers.
      return {
        metric: "custom",
        metrics: evaluation.score(only("custom", samples), data),
        reference: {},
      };
    }
    default: {
      const never: never = metric;
      throw new Error(`unknown metric family ${JSON.stringify(never)}`);
    }
  }
}
