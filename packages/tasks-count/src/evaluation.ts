/**
 * `padt eval count` on a COCO file with the Shapes generator's `ovd` lists: each asked category
 * of an image is one question, "how many <category>?", whose answer is the number of the
 * image's annotations of that category (0 for the absent categories the lists also ask).
 */
import { datasetList, type TaskEvaluation } from "@padt/task-api";
import type { CountResult } from "./index.js";

interface CountEntry {
  image_id: number;
  category: string;
}

/** One question's numbers; `predicted` is null when the query failed to run. */
interface CountPair {
  expected: number;
  predicted: number | null;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/**
 * Exact-count accuracy and mean absolute error (a failed query misses its expected number by
 * all of it). @padt/eval has no counting family: the plugin scores its own samples.
 */
export function countMetrics(pairs: readonly CountPair[]) {
  const n = pairs.length;
  const missing = pairs.filter((p) => p.predicted === null).length;
  const exactAccuracy = n ? pairs.filter((p) => p.predicted === p.expected).length / n : 0;
  const meanAbsoluteError = n
    ? pairs.reduce((sum, p) => sum + Math.abs((p.predicted ?? 0) - p.expected), 0) / n
    : 0;
  return {
    values: { samples: n, exactAccuracy, meanAbsoluteError, missing },
    summary: [
      ["exact count accuracy", pct(exactAccuracy)],
      ["mean absolute error", meanAbsoluteError.toFixed(3)],
      ["samples", `${n} (${missing} without an answer)`],
    ] as [string, string][],
  };
}

export const countEvaluation: TaskEvaluation<CountResult> = {
  metric: "custom",
  maxNewTokens: 128,
  queries: (data, { imageIds, perImage }) =>
    datasetList<{ image_id: number; categories: string[] }>(data, "ovd")
      .filter((e) => imageIds.has(e.image_id))
      .flatMap((e) => e.categories.slice(0, perImage).map((category) => ({ ...e, category })))
      .map((e): { imageId: number; input: unknown; entry: CountEntry } => ({
        imageId: e.image_id,
        input: { object: e.category },
        entry: { image_id: e.image_id, category: e.category },
      })),
  sample(query, outcome, _answer, data) {
    const e = query.entry as CountEntry;
    const ids = new Set(data.categories.filter((c) => c.name === e.category).map((c) => c.id));
    const expected = data.annotations.filter(
      (a) =>
        a.image_id === e.image_id &&
        (a.category ? a.category === e.category : ids.has(a.category_id)),
    ).length;
    const pair: CountPair = { expected, predicted: outcome ? outcome.result.count : null };
    return { metric: "custom", id: `${e.image_id}/${e.category}`, data: pair };
  },
  score: (samples) => countMetrics(samples.map((s) => s.data as CountPair)),
};
