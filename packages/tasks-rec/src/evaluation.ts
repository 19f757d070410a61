/**
 * `padt eval rec`: the first referring expressions of each image (as evaluate.py), the
 * plugin's object against the annotated box, and every labelled object for the paper's rule.
 */
import {
  annotationById,
  boxFromXywh,
  type ReferringEntry,
  referringQueries,
  referringSampleId,
  referringSubsets,
  type TaskEvaluation,
} from "@padt/task-api";
import type { RecResult } from "./index.js";

export const recEvaluation: TaskEvaluation<RecResult> = {
  metric: "box",
  maxNewTokens: 96,
  queries: referringQueries,
  sample(query, outcome, answer, data) {
    const e = query.entry as ReferringEntry;
    return {
      metric: "box",
      id: referringSampleId(e),
      groundTruth: boxFromXywh(annotationById(data, e.annotation_id).bbox),
      prediction: outcome?.result.object?.box ?? null,
      expression: e.expression,
      objects: (answer?.objects ?? []).map((o) => ({ label: o.label, box: o.box })),
      subsets: referringSubsets(data, e),
    };
  },
};
