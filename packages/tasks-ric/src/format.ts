import { formatBox, type GenerationResult } from "@padt/task-api";
import type { RicResult } from "./index.js";

/** `padt run ric`: the caption, then each grounded phrase with its objects' boxes. */
export function formatRic(r: RicResult, answer: GenerationResult): string[] {
  return [
    r.caption,
    ...r.phrases.map(
      (p) =>
        `  "${p.text}" [${p.start}, ${p.end}): ${p.objects
          .map((i) => {
            const o = answer.objects.find((x) => x.index === i);
            return o ? `#${i} ${formatBox(o.box)}` : `#${i}`;
          })
          .join("; ")}`,
    ),
  ];
}
