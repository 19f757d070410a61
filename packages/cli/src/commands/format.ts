/** `padt run`'s readable output: a line for the answer, then a line per object. */
import type { Box, GenerationResult, TaskOutcome } from "@padt/task-api";
import type { OvdResult } from "@padt/tasks-ovd";
import type { RecResult } from "@padt/tasks-rec";
import type { ResResult } from "@padt/tasks-res";
import type { RicResult } from "@padt/tasks-ric";

const n = (v: number) => v.toFixed(1);
const box = (b: Box) => `box x=${n(b.x)} y=${n(b.y)} w=${n(b.width)} h=${n(b.height)}`;
const score = (s: number) => `score ${s.toFixed(3)}`;

type Formatter = (result: never, answer: GenerationResult) => string[];

/** One per shipped task; other plugins' results are printed field by field. */
const FORMATTERS = {
  rec: (r: RecResult) => [
    `"${r.expression}": ${r.object ? `object #${r.object.index} ${box(r.object.box)} ${score(r.object.score)}` : "no object"}`,
  ],
  res: (r: ResResult) => [
    `"${r.expression}": ${r.segment ? `object #${r.segment.object} mask ${r.segment.area} px ${box(r.segment.box)} ${score(r.segment.score)}` : "no object"}`,
  ],
  ovd: (r: OvdResult) => [
    `${r.detections.length} detection${r.detections.length === 1 ? "" : "s"}`,
    ...r.detections.map(
      (d) => `  #${d.object} ${d.label}  ${box(d.box)} ${score(d.score)} mask ${d.mask.area} px`,
    ),
  ],
  ric: (r: RicResult, answer: GenerationResult) => [
    r.caption,
    ...r.phrases.map(
      (p) =>
        `  "${p.text}" [${p.start}, ${p.end}): ${p.objects
          .map((i) => {
            const o = answer.objects.find((x) => x.index === i);
            return o ? `#${i} ${box(o.box)}` : `#${i}`;
          })
          .join("; ")}`,
    ),
  ],
} satisfies Record<string, Formatter>;

const isBoxed = (v: unknown): v is { box: Box; index?: number; score?: number } =>
  typeof v === "object" && v !== null && "box" in v;

/** Any plugin's result: its plain fields on one line, then one line per item with a box. */
function generic(task: string, result: unknown): string[] {
  if (typeof result !== "object" || result === null) return [`${task}: ${JSON.stringify(result)}`];
  const fields: string[] = [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value) && value.some(isBoxed)) {
      for (const item of value.filter(isBoxed)) {
        const parts = [item.index !== undefined ? `#${item.index}` : "", box(item.box)];
        if (item.score !== undefined) parts.push(score(item.score));
        lines.push(`  ${parts.filter(Boolean).join(" ")}`);
      }
    } else if (typeof value !== "object" || value === null) {
      fields.push(`${key} ${JSON.stringify(value)}`);
    }
  }
  return [`${task}: ${fields.join(", ")}`, ...lines];
}

export function formatOutcome(
  task: string,
  outcome: TaskOutcome<unknown>,
  answer: GenerationResult,
): string[] {
  const format = (FORMATTERS as Record<string, Formatter>)[task];
  const lines = format ? format(outcome.result as never, answer) : generic(task, outcome.result);
  if (outcome.partial) lines.push("(partial answer)");
  for (const issue of outcome.issues) lines.push(`note: ${issue}`);
  return lines;
}
