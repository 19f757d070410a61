/**
 * `padt eval <task> --annotations FILE --images DIR`: the TypeScript pipeline (engine + task
 * plugin) over a COCO-style dataset, scored with @padt/eval and, under their own names, with
 * the PyTorch reference's definitions (tools/padt/train/evaluate.py; see eval_tasks.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type EvalReport, formatSummary, type ReportMeta } from "@padt/eval";
import { loadConfig, loadTasks } from "@padt/gateway";
import {
  CONFIG_FLAGS,
  configArgv,
  type Io,
  loadEngine,
  parseFlags,
  positiveIntFlag,
  UsageError,
} from "./common.js";
import { type EvalDataset, TASK_EVALS } from "./eval_tasks.js";
import { progress } from "./progress.js";

export const EVAL_USAGE = `  padt eval <rec|res|ovd|ric> --annotations FILE --images DIR [--limit N] [--out report.json]
           [--referring N] [--max-new-tokens N] [--threads N] [--model DIR] [--provider P]`;

const FLAGS = {
  ...CONFIG_FLAGS,
  annotations: { type: "string" },
  images: { type: "string" },
  limit: { type: "string" },
  out: { type: "string" },
  referring: { type: "string" },
  "max-new-tokens": { type: "string" },
  threads: { type: "string" },
} as const;

/** Keys of the reference's numbers that are counts, not ratios. */
const COUNTS = new Set(["queries", "images", "detections", "phrases"]);

/** The report: @padt/eval's, plus the reference's numbers under evaluate.py's keys. */
export type CliEvalReport = EvalReport & { reference: Record<string, number> };

export async function evaluate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS);
  const [task, ...extra] = positionals;
  if (!task || !(task in TASK_EVALS))
    throw new UsageError(`name the task to evaluate: ${Object.keys(TASK_EVALS).join(", ")}`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  if (!values.annotations || !values.images)
    throw new UsageError("--annotations FILE and --images DIR are required");
  const limit = positiveIntFlag("limit", values.limit);
  const referring = positiveIntFlag("referring", values.referring) ?? 2;
  const threads = positiveIntFlag("threads", values.threads);
  const spec = TASK_EVALS[task as keyof typeof TASK_EVALS];
  const maxNewTokens =
    positiveIntFlag("max-new-tokens", values["max-new-tokens"]) ?? spec.maxNewTokens;

  const data = JSON.parse(readFileSync(values.annotations, "utf8")) as EvalDataset;
  const images = data.images.slice(0, limit);
  const queries = spec.queries(data, new Set(images.map((i) => i.id)), referring);
  const config = loadConfig(configArgv(values));
  const tasks = await loadTasks(config.tasks);
  const plugin = tasks.get(task);
  const scorer = spec.scorer(data);
  const files = new Map(images.map((i) => [i.id, join(values.images!, i.file_name ?? `${i.id}`)]));

  const engine = await loadEngine(config, io, threads);
  const meta: ReportMeta & Required<Pick<ReportMeta, "failures">> = {
    model: engine.info.name,
    annotations: resolve(values.annotations),
    images: resolve(values.images),
    startedAt: new Date().toISOString(),
    partialAnswers: 0,
    failures: [],
  };
  const started = performance.now();
  const bar = progress(io, `eval ${task}`, queries.length);
  let mismatched = 0;
  try {
    for (const [n, query] of queries.entries()) {
      const { input } = tasks.parseInput(task, query.input);
      const prompt = plugin.buildPrompt(input);
      if (query.prompt !== undefined && query.prompt !== prompt && mismatched++ === 0)
        io.err(
          `warning: the plugin's prompt differs from the dataset's: ${JSON.stringify(prompt)}`,
        );
      try {
        const image = readFileSync(files.get(query.imageId)!);
        const answer = await engine.run(
          [
            {
              role: "user",
              content: [
                { type: "image", data: image },
                { type: "text", text: prompt },
              ],
            },
          ],
          { maxNewTokens },
        );
        const outcome = plugin.parse(answer, input);
        if (outcome.partial) meta.partialAnswers! += 1;
        scorer.add(query, outcome, answer);
      } catch (error) {
        // A query that cannot run counts as a miss, so the denominators stay the dataset's.
        meta.failures.push({ id: `${query.imageId}#${n}`, error: String(error) });
        scorer.add(query, null, null);
      }
      bar.tick(n + 1);
    }
  } finally {
    await engine.close();
  }
  meta.durationMs = Math.round(performance.now() - started);
  const { reference, ...scored } = scorer.finish();
  const report = { version: 1, meta, ...scored, reference } as CliEvalReport;
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  io.out(formatSummary(report));
  io.out("  as the PyTorch reference (tools/padt/train/evaluate.py):");
  for (const [k, v] of Object.entries(reference))
    io.out(`    ${k.padEnd(24)}${COUNTS.has(k) ? v : v.toFixed(4)}`);
  if (mismatched > 0) io.err(`warning: ${mismatched} prompts differ from the dataset's`);
  return meta.failures.length === queries.length && queries.length > 0 ? 1 : 0;
}
