/** `padt eval ric`: each image's caption request; phrases and boxes as the annotations give them. */
import { annotationById, boxFromXywh, datasetList, type TaskEvaluation } from "@padt/task-api";
import type { RicResult } from "./index.js";

interface CaptionEntry {
  image_id: number;
  caption: string;
  prompt?: string;
  phrases: { text: string; annotation_ids: number[] }[];
}

export const ricEvaluation: TaskEvaluation<RicResult> = {
  metric: "caption",
  maxNewTokens: 256,
  queries: (data, { imageIds }) =>
    datasetList<CaptionEntry>(data, "captions")
      .filter((e) => imageIds.has(e.image_id))
      .map((e) => ({
        imageId: e.image_id,
        input: e.prompt ? { prompt: e.prompt } : {},
        ...(e.prompt !== undefined ? { prompt: e.prompt } : {}),
        entry: e,
      })),
  sample(query, outcome, answer, data) {
    const e = query.entry as CaptionEntry;
    const objects = [...(answer?.objects ?? [])].sort((a, b) => a.index - b.index);
    const byIndex = new Map(objects.map((o) => [o.index, o.box]));
    return {
      metric: "caption",
      id: e.image_id,
      referenceCaption: e.caption,
      referencePhrases: e.phrases.map((p) => ({
        text: p.text,
        boxes: p.annotation_ids.map((id) => boxFromXywh(annotationById(data, id).bbox)),
      })),
      caption: outcome?.result.caption ?? "",
      phrases: (outcome?.result.phrases ?? []).map((p) => ({
        text: p.text,
        boxes: p.objects.flatMap((i) => byIndex.get(i) ?? []),
      })),
      segments: answer?.segments ?? [],
      objectBoxes: objects.map((o) => o.box),
      groundTruthBoxes: data.annotations
        .filter((a) => a.image_id === e.image_id)
        .map((a) => boxFromXywh(a.bbox)),
    };
  },
};
