import { formatBox, formatScore } from "@padt/task-api";
import type { OvdResult } from "./index.js";

/** `padt run ovd`: how many detections, then one line each. */
export function formatOvd(r: OvdResult): string[] {
  const n = r.detections.length;
  return [
    `${n} detection${n === 1 ? "" : "s"}`,
    ...r.detections.map(
      (d) =>
        `  #${d.object} ${d.label}  ${formatBox(d.box)} ${formatScore(d.score)} mask ${d.mask.area} px`,
    ),
  ];
}
