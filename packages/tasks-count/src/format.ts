import { formatBox, formatScore } from "@padt/task-api";
import type { CountResult } from "./index.js";

/** `padt run count`: the number, then one line per counted object. */
export function formatCount(r: CountResult): string[] {
  return [
    `${r.count} "${r.object}"`,
    ...r.objects.map((o) => `  #${o.index} ${formatBox(o.box)} ${formatScore(o.score)}`),
  ];
}
