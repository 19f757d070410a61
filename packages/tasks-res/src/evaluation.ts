/** `padt eval res`: REC's queries (as evaluate.py), the plugin's mask against the annotated one. */
import {
  annotationById,
  type ReferringEntry,
  referringQueries,
  referringSampleId,
  type TaskEvaluation,
} from "@padt/task-api";
import type { ResResult } from "./index.js";

export const resEvaluation: TaskEvaluation<ResResult> = {
  metric: "mask",
  maxNewTokens: 96,
  queries: referringQueries,
  sample(query, outcome, _answer, data) {
    const e = query.entry as ReferringEntry;
    const ann = annotationById(data, e.annotation_id);
    if (!ann.segmentation || Array.isArray(ann.segmentation))
      throw new Error(`annotation ${ann.id}: RES needs an RLE segmentation`);
    return {
      metric: "mask",
      id: referringSampleId(e),
      groundTruth: ann.segmentation,
      prediction: outcome?.result.segment?.mask ?? null,
    };
  },
};
