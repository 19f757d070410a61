import { formatBox, formatScore } from "@padt/task-api";
import type { RecResult } from "./index.js";

/** `padt run rec`: the expression and the object it found. */
export function formatRec(r: RecResult): string[] {
  const o = r.object;
  return [
    `"${r.expression}": ${o ? `object #${o.index} ${formatBox(o.box)} ${formatScore(o.score)}` : "no object"}`,
  ];
}
