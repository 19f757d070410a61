/** `padt run`'s readable output: the plugin's own lines, else its result's fields; then flags. */
import {
  type Box,
  formatBox,
  formatScore,
  type GenerationResult,
  type TaskOutcome,
  type TaskPlugin,
} from "@padt/task-api";

const isBoxed = (v: unknown): v is { box: Box; index?: number; score?: number } =>
  typeof v === "object" && v !== null && "box" in v;

/** A result without a plugin formatter: its plain fields on one line, a line per boxed item. */
function generic(task: string, result: unknown): string[] {
  if (typeof result !== "object" || result === null) return [`${task}: ${JSON.stringify(result)}`];
  const fields: string[] = [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value) && value.some(isBoxed)) {
      for (const item of value.filter(isBoxed)) {
        const parts = [item.index !== undefined ? `#${item.index}` : "", formatBox(item.box)];
        if (item.score !== undefined) parts.push(formatScore(item.score));
        lines.push(`  ${parts.filter(Boolean).join(" ")}`);
      }
    } else if (typeof value !== "object" || value === null) {
      fields.push(`${key} ${JSON.stringify(value)}`);
    }
  }
  return [`${task}: ${fields.join(", ")}`, ...lines];
}

export function formatOutcome(
  plugin: TaskPlugin,
  outcome: TaskOutcome<unknown>,
  answer: GenerationResult,
): string[] {
  const lines = plugin.format
    ? plugin.format(outcome.result, answer)
    : generic(plugin.name, outcome.result);
  if (outcome.partial) lines.push("(partial answer)");
  for (const issue of outcome.issues) lines.push(`note: ${issue}`);
  return lines;
}
