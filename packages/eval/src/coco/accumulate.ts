/** COCOeval.accumulate: precision at 101 recall points and final recall, per setting. */

import type { ImageEval } from "./evaluate_image.js";
import { IOU_THRESHOLDS, RECALL_THRESHOLDS } from "./params.js";

const EPS = 2.220446049250313e-16; // np.spacing(1)

export interface Accumulated {
  /** precision[t][r] for one (category, area range, maxDets); -1 without ground truth. */
  precision: number[][];
  /** recall[t]; -1 without ground truth. */
  recall: number[];
}

function searchLeft(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Accumulates the image evaluations of one category and area range, keeping maxDet detections each. */
export function accumulate(evals: readonly (ImageEval | null)[], maxDet: number): Accumulated {
  const T = IOU_THRESHOLDS.length;
  const R = RECALL_THRESHOLDS.length;
  const absent: Accumulated = {
    precision: Array.from({ length: T }, () => new Array<number>(R).fill(-1)),
    recall: new Array<number>(T).fill(-1),
  };
  const E = evals.filter((e): e is ImageEval => e !== null);
  if (E.length === 0) return absent;
  const entries: { score: number; image: number; det: number }[] = [];
  E.forEach((e, image) => {
    e.dtScores.slice(0, maxDet).forEach((score, det) => {
      entries.push({ score, image, det });
    });
  });
  // Stable, as np.argsort(-scores, kind="mergesort").
  const order = entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => b.entry.score - a.entry.score || a.index - b.index)
    .map(({ entry }) => entry);
  const npig = E.reduce((n, e) => n + e.gtIgnore.filter((ignored) => !ignored).length, 0);
  if (npig === 0) return absent;
  const result: Accumulated = { precision: [], recall: [] };
  for (let t = 0; t < T; t++) {
    const rc: number[] = [];
    const pr: number[] = [];
    let tp = 0;
    let fp = 0;
    for (const { image, det } of order) {
      const e = E[image]!;
      if (!e.dtIgnore[t]![det]) {
        if (e.dtMatches[t]![det] !== 0) tp++;
        else fp++;
      }
      rc.push(tp / npig);
      pr.push(tp / (fp + tp + EPS));
    }
    result.recall.push(rc.length > 0 ? rc[rc.length - 1]! : 0);
    for (let i = pr.length - 1; i > 0; i--) {
      if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
    }
    result.precision.push(
      RECALL_THRESHOLDS.map((threshold) => {
        const i = searchLeft(rc, threshold);
        return i < pr.length ? pr[i]! : 0;
      }),
    );
  }
  return result;
}
