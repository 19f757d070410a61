/**
 * `padt run <task> --image PATH [task options]`: one task on one image, without a server.
 * The flags become the task's raw input, validated by the plugin like a GraphQL request.
 */

import { readFileSync } from "node:fs";
import { loadConfig, loadTasks } from "@padt/gateway";
import { ErrorCode, PadtError } from "@padt/protocol";
import {
  CONFIG_FLAGS,
  configArgv,
  type Io,
  loadEngine,
  parseFlags,
  positiveIntFlag,
  UsageError,
} from "./common.js";
import { formatOutcome } from "./format.js";

export const RUN_USAGE = `  padt run <task> --image PATH [--expression TEXT] [--categories a,b,c] [--score-threshold X]
           [--object TEXT] [--prompt TEXT] [--input JSON] [--max-new-tokens N] [--threads N]
           [--model DIR] [--provider P] [--task MODULE]... [--config FILE] [--json]`;

/** Task option flags and the input field each one sets (a plugin refuses fields it lacks). */
const INPUT_FLAGS = {
  expression: { field: "expression", value: (v: string) => v },
  categories: { field: "categories", value: (v: string) => v.split(",").map((s) => s.trim()) },
  "score-threshold": { field: "scoreThreshold", value: (v: string) => Number(v) },
  object: { field: "object", value: (v: string) => v },
  prompt: { field: "prompt", value: (v: string) => v },
} as const satisfies Record<string, { field: string; value: (v: string) => unknown }>;

const FLAGS = {
  ...CONFIG_FLAGS,
  image: { type: "string" },
  expression: { type: "string" },
  categories: { type: "string" },
  "score-threshold": { type: "string" },
  object: { type: "string" },
  prompt: { type: "string" },
  input: { type: "string" },
  "max-new-tokens": { type: "string" },
  threads: { type: "string" },
  json: { type: "boolean" },
} as const;

/** The raw task input: --input's JSON object, then the option flags over it. */
function rawInput(values: Record<string, unknown>): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (typeof values.input === "string") {
    try {
      raw = JSON.parse(values.input) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--input is not JSON: ${(error as Error).message}`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new UsageError("--input must be a JSON object");
  }
  for (const [flag, { field, value }] of Object.entries(INPUT_FLAGS)) {
    const v = values[flag];
    if (typeof v === "string") raw[field] = value(v);
  }
  return raw;
}

/** Fields a plugin's (zod object) schema does not know would be dropped silently: refuse them. */
function refuseUnknownFields(task: string, shape: object | undefined, raw: object): void {
  if (!shape) return;
  const unknown = Object.keys(raw).filter((k) => !(k in shape));
  if (unknown.length === 0) return;
  const flag = (field: string) =>
    Object.entries(INPUT_FLAGS).find(([, f]) => f.field === field)?.[0] ?? field;
  throw new PadtError(
    ErrorCode.TASK_INPUT_INVALID,
    `Invalid input for task "${task}": it takes no ${unknown.map((f) => `--${flag(f)}`).join(", ")} (its fields: ${Object.keys(shape).join(", ")})`,
    { problems: unknown.map((f) => `${f}: not a field of this task`) },
  );
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS);
  const [task, ...extra] = positionals;
  if (!task) throw new UsageError("name a task: padt run <task> --image PATH");
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  if (!values.image) throw new UsageError("--image PATH is required");
  const maxNewTokens = positiveIntFlag("max-new-tokens", values["max-new-tokens"]);
  const threads = positiveIntFlag("threads", values.threads);

  const config = loadConfig(configArgv(values));
  const tasks = await loadTasks(config.tasks);
  const raw = rawInput(values);
  const plugin = tasks.get(task);
  refuseUnknownFields(task, (plugin.input as { shape?: object }).shape, raw);
  const { input } = tasks.parseInput(task, raw);
  if (maxNewTokens !== undefined && maxNewTokens > config.limits.maxNewTokens)
    throw new UsageError(`--max-new-tokens is at most ${config.limits.maxNewTokens}`);

  let image: Uint8Array;
  try {
    image = readFileSync(values.image);
  } catch (error) {
    throw new Error(`cannot read --image ${values.image}: ${(error as Error).message}`);
  }
  const engine = await loadEngine(config, io, threads);
  try {
    const answer = await engine.run(
      [
        {
          role: "user",
          content: [
            { type: "image", data: image },
            { type: "text", text: plugin.buildPrompt(input) },
          ],
        },
      ],
      maxNewTokens ? { maxNewTokens } : {},
    );
    const outcome = plugin.parse(answer, input);
    if (values.json) io.out(JSON.stringify(outcome, null, 2));
    else for (const line of formatOutcome(plugin, outcome, answer)) io.out(line);
    return 0;
  } finally {
    await engine.close();
  }
}
