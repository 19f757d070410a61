/**
 * What `padt eval` asks per task and how it scores the answers, mirroring
 * tools/padt/train/evaluate.py (the PyTorch reference) query for query:
 * - rec / res: the first `referring` (default 2) referring expressions of each image, in file
 *   order; predicted boxes rounded half to even (round_box); the first object of the answer.
 *   REC also reports the paper's protocol (PaDT eval_refcoco.py) beside it, `metrics.paper`:
 *   only objects whose label equals the expression, the best IoU among them.
 * - ovd: each image's OVD query; its ground truth is the image's objects of the asked
 *   categories only. Detections: the plugin's, plus (as the reference keeps every object whose
 *   label is a known category) objects labelled exactly with a category that was not asked.
 *   One difference remains: a label that matches an asked name only case-insensitively or
 *   with extra spaces ("Circle ") is kept by the plugin and dropped by the reference.
 * - ric: each image's caption request; phrases and boxes as the annotations give them.
 * Where the two sides differ, it says so next to the line.
 */

import {
  type CocoAnnotation,
  type CocoDataset,
  type CocoDetection,
  cocoEvaluate,
  type EvalReport,
  paperRecSample,
  type RecSample,
  type ResSample,
  type RicSample,
  recMetrics,
  resMetrics,
  ricMetrics,
} from "@padt/eval";
import { rleFromCoco } from "@padt/mask";
import type { AnswerSegment, Box, GenerationResult, RleMask, TaskOutcome } from "@padt/task-api";
import type { OvdResult } from "@padt/tasks-ovd";
import type { RecResult } from "@padt/tasks-rec";
import type { ResResult } from "@padt/tasks-res";
import type { RicResult } from "@padt/tasks-ric";
import { groundedPhrases, matchOneToOne, roundBox, toBox, toXywh } from "./eval_reference.js";

/** A COCO file as the Shapes generator writes it: COCO plus the task queries. */
export interface EvalDataset extends CocoDataset {
  annotations: (CocoAnnotation & { category?: string })[];
  referring?: { image_id: number; expression: string; annotation_id: number; prompt?: string }[];
  ovd?: { image_id: number; categories: string[]; prompt?: string }[];
  captions?: {
    image_id: number;
    caption: string;
    prompt?: string;
    phrases: { text: string; annotation_ids: number[] }[];
  }[];
}

export interface Query {
  imageId: number;
  /** The task's raw input. */
  input: unknown;
  /** The prompt the dataset was made with, to check the plugin builds the same. */
  prompt?: string;
  entry: unknown;
}

type Metrics = EvalReport extends infer R
  ? R extends { task: infer T; metrics: infer M }
    ? { task: T; metrics: M }
    : never
  : never;

/** Scores answers one by one; `answer` is null when the query failed to run (a miss). */
export interface Scorer {
  add(query: Query, outcome: TaskOutcome<unknown> | null, answer: GenerationResult | null): void;
  /** @padt/eval's metrics, and the reference's under evaluate.py's own keys. */
  finish(): Metrics & { reference: Record<string, number> };
}

export interface TaskEval {
  /** evaluate.py's MAX_TOKENS for the task. */
  maxNewTokens: number;
  queries(data: EvalDataset, imageIds: ReadonlySet<number>, referring: number): Query[];
  scorer(data: EvalDataset): Scorer;
}

function annotationsById(data: EvalDataset): Map<number, CocoAnnotation & { category?: string }> {
  return new Map(data.annotations.map((a) => [a.id, a]));
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the annotations have no ${what}`);
  return value;
}

const maskRle = (m: RleMask) => rleFromCoco({ size: [m.height, m.width], counts: m.counts });

function referringQueries(data: EvalDataset, ids: ReadonlySet<number>, perImage: number) {
  const seen = new Map<number, number>();
  const out: Query[] = [];
  for (const e of need(data.referring, '"referring" list')) {
    if (!ids.has(e.image_id)) continue;
    const n = seen.get(e.image_id) ?? 0;
    seen.set(e.image_id, n + 1);
    if (n < perImage)
      out.push({
        imageId: e.image_id,
        input: { expression: e.expression },
        prompt: e.prompt,
        entry: e,
      });
  }
  return out;
}

type ReferringEntry = NonNullable<EvalDataset["referring"]>[number];

const rec: TaskEval = {
  maxNewTokens: 96,
  queries: referringQueries,
  scorer(data) {
    const anns = annotationsById(data);
    const samples: RecSample[] = [];
    const paper: RecSample[] = [];
    return {
      add(query, outcome, answer) {
        const e = query.entry as ReferringEntry;
        const object = (outcome?.result as RecResult | undefined)?.object;
        const id = `${e.image_id}/${e.annotation_id}/${e.expression}`;
        const groundTruth = toBox(
          need(anns.get(e.annotation_id), `annotation ${e.annotation_id}`).bbox,
        );
        samples.push({ id, groundTruth, prediction: object ? roundBox(object.box) : null });
        const objects = (answer?.objects ?? []).map((o) => ({
          label: o.label,
          box: roundBox(o.box),
        }));
        paper.push(paperRecSample(id, groundTruth, e.expression, objects));
      },
      finish() {
        const metrics = { ...recMetrics(samples), paper: recMetrics(paper) };
        return {
          task: "rec",
          metrics,
          reference: { queries: samples.length, "acc@0.5": metrics.accAt50 },
        };
      },
    };
  },
};

const res: TaskEval = {
  maxNewTokens: 96,
  queries: referringQueries,
  scorer(data) {
    const anns = annotationsById(data);
    const samples: ResSample[] = [];
    return {
      add(query, outcome) {
        const e = query.entry as ReferringEntry;
        const ann = need(anns.get(e.annotation_id), `annotation ${e.annotation_id}`);
        const seg = ann.segmentation;
        if (!seg || Array.isArray(seg))
          throw new Error(`annotation ${ann.id}: RES needs an RLE segmentation`);
        const segment = (outcome?.result as ResResult | undefined)?.segment;
        samples.push({
          id: `${e.image_id}/${e.annotation_id}/${e.expression}`,
          groundTruth: rleFromCoco(seg),
          prediction: segment ? maskRle(segment.mask) : null,
        });
      },
      finish() {
        const metrics = resMetrics(samples);
        // Differs only when a ground-truth mask and the prediction are both empty: the
        // reference counts IoU 1 there, @padt/eval 0 (Shapes masks are never empty).
        return {
          task: "res",
          metrics,
          reference: { queries: samples.length, mIoU: metrics.mIoU, cIoU: metrics.cIoU },
        };
      },
    };
  },
};

type OvdEntry = NonNullable<EvalDataset["ovd"]>[number];

const ovd: TaskEval = {
  maxNewTokens: 256,
  queries: (data, ids) =>
    need(data.ovd, '"ovd" list')
      .filter((e) => ids.has(e.image_id))
      .map((e) => ({
        imageId: e.image_id,
        input: { categories: e.categories },
        prompt: e.prompt,
        entry: e,
      })),
  scorer(data) {
    const catId = new Map(data.categories.map((c) => [c.name, c.id]));
    const catName = new Map(data.categories.map((c) => [c.id, c.name]));
    const imageIds = new Set<number>();
    const gts: CocoAnnotation[] = [];
    const dets: CocoDetection[] = [];
    const withMasks = data.annotations.every((a) => a.segmentation !== undefined);
    return {
      add(query, outcome, answer) {
        const e = query.entry as OvdEntry;
        const asked = new Set(e.categories);
        // The reference appends the image once per query; pycocotools keeps one per id.
        imageIds.add(e.image_id);
        gts.push(
          ...data.annotations.filter(
            (a) =>
              a.image_id === e.image_id && asked.has(a.category ?? catName.get(a.category_id)!),
          ),
        );
        const result = outcome?.result as OvdResult | undefined;
        const kept = new Set(result?.detections.map((d) => d.object));
        const objects = [
          ...(result?.detections ?? []).map((d) => ({ ...d, category: catId.get(d.label) })),
          // As the reference: an object labelled with a known category that was not asked.
          ...(answer?.objects ?? [])
            .filter((o) => !kept.has(o.index))
            .map((o) => ({ ...o, category: catId.get(o.label) })),
        ];
        for (const o of objects) {
          if (o.category === undefined) continue;
          dets.push({
            image_id: e.image_id,
            category_id: o.category,
            bbox: toXywh(roundBox(o.box)),
            score: o.score,
            ...(withMasks
              ? { segmentation: { size: [o.mask.height, o.mask.width], counts: o.mask.counts } }
              : {}),
          });
        }
      },
      finish() {
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
          task: "ovd",
          metrics: segm ? { bbox, segm } : { bbox },
          reference: {
            images: imageIds.size,
            detections: dets.length,
            mAP: clamp(bbox.named.AP),
            AP50: clamp(bbox.named.AP50),
          },
        };
      },
    };
  },
};

type CaptionEntry = NonNullable<EvalDataset["captions"]>[number];

const ric: TaskEval = {
  maxNewTokens: 256,
  queries: (data, ids) =>
    need(data.captions, '"captions" list')
      .filter((e) => ids.has(e.image_id))
      .map((e) => ({
        imageId: e.image_id,
        input: e.prompt ? { prompt: e.prompt } : {},
        prompt: e.prompt,
        entry: e,
      })),
  scorer(data) {
    const anns = annotationsById(data);
    const box = (id: number) => toBox(need(anns.get(id), `annotation ${id}`).bbox);
    const samples: RicSample[] = [];
    let phrasesOk = 0;
    let phrasesAll = 0;
    let objectsOk = 0;
    let objectsAll = 0;
    return {
      add(query, outcome, answer) {
        const e = query.entry as CaptionEntry;
        const result = outcome?.result as RicResult | undefined;
        const objects = [...(answer?.objects ?? [])].sort((a, b) => a.index - b.index);
        const predBoxes: Box[] = objects.map((o) => roundBox(o.box));
        const byIndex = new Map(objects.map((o, i) => [o.index, predBoxes[i]!]));
        const referencePhrases = e.phrases.map((p) => ({
          text: p.text,
          boxes: p.annotation_ids.map(box),
        }));
        samples.push({
          id: e.image_id,
          referenceCaptions: [e.caption],
          referencePhrases,
          caption: result?.caption ?? "",
          phrases: (result?.phrases ?? []).map((p) => ({
            text: p.text,
            boxes: p.objects.flatMap((i) => byIndex.get(i) ?? []),
          })),
        });
        const segments: AnswerSegment[] = answer?.segments ?? [];
        const [ok, total] = groundedPhrases(segments, predBoxes, referencePhrases);
        phrasesOk += ok;
        phrasesAll += total;
        const gtBoxes = data.annotations
          .filter((a) => a.image_id === e.image_id)
          .map((a) => toBox(a.bbox));
        objectsOk += matchOneToOne(predBoxes, gtBoxes);
        objectsAll += gtBoxes.length;
      },
      finish() {
        return {
          task: "ric",
          metrics: ricMetrics(samples),
          reference: {
            phrases: phrasesAll,
            grounded_phrase_acc: phrasesAll ? phrasesOk / phrasesAll : 0,
            grounded_object_recall: objectsAll ? objectsOk / objectsAll : 0,
          },
        };
      },
    };
  },
};

/** The tasks `padt eval` knows how to score. */
export const TASK_EVALS = { rec, res, ovd, ric } as const satisfies Record<
  EvalReport["task"],
  TaskEval
>;
