/**
 * COCO detection evaluation (bbox and segm) with pycocotools 2.0.8 semantics: the same
 * loading rules, matching, accumulation and summary, so the 12 stats agree to rounding.
 */
import { type Accumulated, accumulate } from "./accumulate.js";
import { computeIou, evaluateImage } from "./evaluate_image.js";
import { loadDetections, loadGroundTruth } from "./load.js";
import { AREA_LABELS, AREA_RANGES, type AreaLabel, MAX_DETS } from "./params.js";
import { type Curves, categoryAP, STAT_NAMES, type StatName, summarize } from "./summarize.js";
import type { CocoDataset, CocoDetection, EvalObject, IouType } from "./types.js";

export { STAT_NAMES, type StatName } from "./summarize.js";
export type {
  CocoAnnotation,
  CocoCategory,
  CocoDataset,
  CocoDetection,
  CocoImage,
  CocoSegmentation,
  IouType,
} from "./types.js";

export interface CocoEvalResult {
  iouType: IouType;
  images: number;
  detections: number;
  /** The 12 stats in pycocotools' order (COCOeval.stats). */
  stats: number[];
  named: Record<StatName, number>;
  /** AP (IoU .50:.95, all areas, 100 detections) per category id; -1 without ground truth. */
  perCategoryAP: Record<number, number>;
}

function groupBy(objects: readonly EvalObject[]): Map<string, EvalObject[]> {
  const groups = new Map<string, EvalObject[]>();
  for (const o of objects) {
    const key = `${o.imageId}/${o.categoryId}`;
    const list = groups.get(key);
    if (list) list.push(o);
    else groups.set(key, [o]);
  }
  return groups;
}

const sortedUnique = (ids: readonly number[]) => [...new Set(ids)].sort((a, b) => a - b);

export function cocoEvaluate(
  dataset: CocoDataset,
  detections: readonly CocoDetection[],
  iouType: IouType,
): CocoEvalResult {
  const imageIds = sortedUnique(dataset.images.map((i) => i.id));
  const catIds = sortedUnique(dataset.categories.map((c) => c.id));
  const gts = groupBy(loadGroundTruth(dataset, iouType));
  const dts = groupBy(loadDetections(dataset, detections, iouType));
  const maxDet = MAX_DETS[MAX_DETS.length - 1]!;
  const curves = new Map<string, Accumulated>();
  for (const [k, catId] of catIds.entries()) {
    const cells = imageIds.map((imageId) => {
      const key = `${imageId}/${catId}`;
      const g = gts.get(key) ?? [];
      const d = dts.get(key) ?? [];
      return { g, d, ious: computeIou(g, d, iouType, maxDet) };
    });
    for (const area of AREA_LABELS) {
      const evals = cells.map(({ g, d, ious }) =>
        evaluateImage(g, d, ious, AREA_RANGES[area], maxDet),
      );
      for (const m of MAX_DETS) curves.set(`${k}/${area}/${m}`, accumulate(evals, m));
    }
  }
  const get = (k: number, area: AreaLabel, m: number) => curves.get(`${k}/${area}/${m}`)!;
  const c: Curves = {
    categories: catIds.length,
    precision: (k, area, m) => get(k, area, m).precision,
    recall: (k, area, m) => get(k, area, m).recall,
  };
  const named = summarize(c);
  const perCategoryAP: Record<number, number> = {};
  for (const [k, catId] of catIds.entries()) {
    perCategoryAP[catId] = categoryAP(c, k);
  }
  return {
    iouType,
    images: imageIds.length,
    detections: detections.length,
    stats: STAT_NAMES.map((name) => named[name]),
    named,
    perCategoryAP,
  };
}
