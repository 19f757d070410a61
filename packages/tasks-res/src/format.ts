import { formatBox, formatScore } from "@padt/task-api";
import type { ResResult } from "./index.js";

/** `padt run res`: the expression and the mask it found. */
export function formatRes(r: ResResult): string[] {
  const s = r.segment;
  return [
    `"${r.expression}": ${s ? `object #${s.object} mask ${s.area} px ${formatBox(s.box)} ${formatScore(s.score)}` : "no object"}`,
  ];
}
