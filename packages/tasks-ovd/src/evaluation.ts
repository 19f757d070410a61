/**
 * `padt eval ovd`: each image's OVD query; its ground truth is the image's objects of the asked
 * categories only. Detections: the plugin's, plus (as evaluate.py keeps every object whose
 * label is a known category) objects labelled exactly with a category that was not asked.
 * One difference remains: a label that matches an asked name only case-insensitively or with
 * extra spaces ("Circle ") is kept by the plugin and dropped by the reference.
 */
import { datasetList, type TaskEvaluation } from "@padt/task-api";
import type { OvdResult } from "./index.js";

interface OvdEntry {
  image_id: number;
  categories: string[];
  prompt?: string;
}

export const ovdEvaluation: TaskEvaluation<OvdResult> = {
  metric: "detection",
  maxNewTokens: 256,
  queries: (data, { imageIds }) =>
    datasetList<OvdEntry>(data, "ovd")
      .filter((e) => imageIds.has(e.image_id))
      .map((e) => ({
        imageId: e.image_id,
        input: { categories: e.categories },
        ...(e.prompt !== undefined ? { prompt: e.prompt } : {}),
        entry: e,
      })),
  sample(query, outcome, answer, data) {
    const e = query.entry as OvdEntry;
    const catId = new Map(data.categories.map((c) => [c.name, c.id]));
    const catName = new Map(data.categories.map((c) => [c.id, c.name]));
    const asked = new Set(e.categories);
    const result = outcome?.result;
    const kept = new Set(result?.detections.map((d) => d.object));
    const objects = [
      ...(result?.detections ?? []).map((d) => ({ ...d, categoryId: catId.get(d.label) })),
      ...(answer?.objects ?? [])
        .filter((o) => !kept.has(o.index))
        .map((o) => ({ ...o, categoryId: catId.get(o.label) })),
    ];
    return {
      metric: "detection",
      imageId: e.image_id,
      groundTruth: data.annotations.filter(
        (a) => a.image_id === e.image_id && asked.has(a.category ?? catName.get(a.category_id)!),
      ),
      detections: objects.flatMap((o) =>
        o.categoryId === undefined
          ? []
          : [{ categoryId: o.categoryId, box: o.box, score: o.score, mask: o.mask }],
      ),
    };
  },
};
