/**
 * The evaluation adapter a plugin may provide for `padt eval`: which queries an annotation file
 * asks, and what one answer becomes as a sample of a metric family. Plugins import only this
 * package, so samples are plain data (boxes in image pixels, COCO RLE) and the scoring of each
 * family lives once, in @padt/eval; the CLI runs the loop and holds no per-task code.
 */
import type { AnswerSegment, Box, GenerationResult, RleMask } from "@padt/protocol";
import type { TaskOutcome } from "./plugin.js";

/** A COCO segmentation as annotation files hold it (RLE; polygons are refused by the scorers). */
export type EvalSegmentation = { size: [number, number]; counts: string | number[] } | number[][];

export interface EvalAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** x, y, width, height in image pixels. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd?: number | boolean;
  segmentation?: EvalSegmentation;
  /** The category's name (the Shapes generator writes it beside the id). */
  category?: string;
}

/**
 * A COCO file as `padt eval` reads it, plus the tasks' query lists (the Shapes generator writes
 * `referring`, `ovd` and `captions`); each adapter reads and checks the lists it needs.
 */
export interface EvalDataset {
  images: { id: number; width: number; height: number; file_name?: string }[];
  categories: { id: number; name: string }[];
  annotations: EvalAnnotation[];
  [list: string]: unknown;
}

/** One question to the model: the task's raw input, for one image. */
export interface EvalQuery {
  imageId: number;
  /** Raw task input, validated by the plugin like a GraphQL request. */
  input: unknown;
  /** The prompt the dataset was made with, to check that the plugin builds the same. */
  prompt?: string;
  /** The dataset entry the query came from, for the adapter's `sample`. */
  entry: unknown;
}

export interface EvalQueryOptions {
  /** The images evaluated (after --limit). */
  imageIds: ReadonlySet<number>;
  /** At most this many queries per image, where a task asks several (REC/RES: --referring). */
  perImage?: number;
}

/** Referring boxes (REC): Acc@0.5 and mean IoU; `objects` also scores the paper's rule. */
export interface BoxSample {
  metric: "box";
  id: string;
  groundTruth: Box;
  prediction: Box | null;
  /** The paper's rule: the best of these objects labelled exactly `expression`. */
  expression?: string;
  objects?: { label: string; box: Box }[];
  /** Subsets the sample belongs to (e.g. `objects>=5`, `<40px`), each also scored alone. */
  subsets?: string[];
}

/** Referring masks (RES): mIoU, cumulative IoU, Pr@X. */
export interface MaskSample {
  metric: "mask";
  id: string;
  groundTruth: EvalSegmentation;
  prediction: RleMask | null;
}

/** Detection (OVD): COCO mAP over the images; ground truth and detections of one query. */
export interface DetectionSample {
  metric: "detection";
  imageId: number;
  groundTruth: EvalAnnotation[];
  detections: { categoryId: number; box: Box; score: number; mask?: RleMask }[];
}

/** Grounded captions (RIC): phrase grounding and caption text metrics. */
export interface CaptionSample {
  metric: "caption";
  id: string | number;
  referenceCaption: string;
  referencePhrases: { text: string; boxes: Box[] }[];
  caption: string;
  phrases: { text: string; boxes: Box[] }[];
  /** The answer as evaluate.py reads it: segments, the objects' boxes in answer order. */
  segments: AnswerSegment[];
  objectBoxes: Box[];
  /** Every annotated box of the image (evaluate.py's object recall). */
  groundTruthBoxes: Box[];
}

/**
 * A family @padt/eval does not know: the plugin scores it itself (`TaskEvaluation.score`), so a
 * new kind of task gets `padt eval` from its own package alone.
 */
export interface CustomSample {
  metric: "custom";
  id: string;
  /** Whatever the plugin's `score` reads; plain data. */
  data: unknown;
}

/** A plugin's own metrics: named numbers for the JSON report, and the summary's rows. */
export interface CustomMetrics {
  values: Record<string, number>;
  /** [label, value] rows as `padt eval` prints them; the first is the headline number. */
  summary: [string, string][];
}

export type EvalSample = BoxSample | MaskSample | DetectionSample | CaptionSample | CustomSample;
export type EvalMetric = EvalSample["metric"];

export interface TaskEvaluation<Result = unknown> {
  /** The metric family every sample of this task belongs to. */
  readonly metric: EvalMetric;
  /** Token budget per answer (the PyTorch reference's MAX_TOKENS for the shipped tasks). */
  readonly maxNewTokens: number;
  queries(data: EvalDataset, options: EvalQueryOptions): EvalQuery[];
  /** One answer as a sample; `outcome` and `answer` are null when the query failed (a miss). */
  sample(
    query: EvalQuery,
    outcome: TaskOutcome<Result> | null,
    answer: GenerationResult | null,
    data: EvalDataset,
  ): EvalSample;
  /** The scorer of the "custom" family (required for it, unused by the others). */
  score?(samples: readonly CustomSample[], data: EvalDataset): CustomMetrics;
}

/** A list the dataset must hold for a task, with a message naming what is missing. */
export function datasetList<T>(data: EvalDataset, key: string): T[] {
  const list = data[key];
  if (!Array.isArray(list)) throw new Error(`the annotations have no "${key}" list`);
  return list as T[];
}

/** The annotation with this id, or an error naming it. */
export function annotationById(data: EvalDataset, id: number): EvalAnnotation {
  const found = data.annotations.find((a) => a.id === id);
  if (!found) throw new Error(`the annotations have no annotation ${id}`);
  return found;
}

export const boxFromXywh = ([x, y, width, height]: readonly number[]): Box => ({
  x: x!,
  y: y!,
  width: width!,
  height: height!,
});
