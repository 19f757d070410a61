/**
 * `padt eval <task> --annotations FILE --images DIR`: the TypeScript pipeline (engine + task
 * plugin) over a COCO-style dataset. The plugin's evaluation adapter says what to ask and what
 * each answer is as a sample; @padt/eval scores the samples, with its own metrics and, under
 * evaluate.py's keys, the PyTorch reference's. No task is known here by name.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type EvalReport, formatSummary, type ReportMeta, scoreSamples } from "@padt/eval";
import { loadConfig, loadTasks } from "@padt/gateway";
import type { EvalDataset, EvalSample, TaskEvaluation, TaskPlugin } from "@padt/task-api";
import {
  CONFIG_FLAGS,
  configArgv,
  type Io,
  loadEngine,
  parseFlags,
  positiveIntFlag,
  UsageError,
} from "./common.js";
import { progress } from "./progress.js";

export const EVAL_USAGE = `  padt eval <task> --annotations FILE --images DIR [--limit N] [--out report.json] [--json]
           [--referring N] [--max-new-tokens N] [--threads N] [--model DIR] [--provider P]
           [--task MODULE]... [--config FILE]
           <task>: a configured plugin with an evaluation adapter (rec, res, ovd, ric; count
           with --task @padt/tasks-count); --referring: at most N queries per image (default 2)`;

const FLAGS = {
  ...CONFIG_FLAGS,
  annotations: { type: "string" },
  images: { type: "string" },
  limit: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  referring: { type: "string" },
  "max-new-tokens": { type: "string" },
  threads: { type: "string" },
} as const;

/** Keys of the reference's numbers that are counts, not ratios. */
const COUNTS = new Set(["queries", "images", "detections", "phrases"]);

type Evaluable = TaskPlugin & { evaluation: TaskEvaluation };

function readDataset(file: string): EvalDataset {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read --annotations ${file}: ${(error as Error).message}`);
  }
  const d = data as Partial<EvalDataset> | null;
  if (
    !d ||
    !Array.isArray(d.images) ||
    !Array.isArray(d.annotations) ||
    !Array.isArray(d.categories)
  )
    throw new Error(`--annotations ${file} is not a COCO file (images, annotations, categories)`);
  return d as EvalDataset;
}

export async function evaluate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS);
  const [task, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const config = loadConfig(configArgv(values));
  const tasks = await loadTasks(config.tasks);
  const evaluable = tasks.list().filter((p): p is Evaluable => p.evaluation !== undefined);
  const plugin = evaluable.find((p) => p.name === task);
  if (!plugin)
    throw new UsageError(
      `name the task to evaluate: ${evaluable.map((p) => p.name).join(", ")} (the configured plugins with an evaluation adapter; --task MODULE adds one)`,
    );
  const { annotations, images: imageDir } = values;
  if (!annotations || !imageDir)
    throw new UsageError("--annotations FILE and --images DIR are required");
  const limit = positiveIntFlag("limit", values.limit);
  const perImage = positiveIntFlag("referring", values.referring);
  const threads = positiveIntFlag("threads", values.threads);
  const spec = plugin.evaluation;
  const maxNewTokens =
    positiveIntFlag("max-new-tokens", values["max-new-tokens"]) ?? spec.maxNewTokens;

  const data = readDataset(annotations);
  const images = data.images.slice(0, limit);
  const queries = spec.queries(data, {
    imageIds: new Set(images.map((i) => i.id)),
    ...(perImage !== undefined ? { perImage } : {}),
  });
  const files = new Map(images.map((i) => [i.id, join(imageDir, i.file_name ?? `${i.id}`)]));

  const engine = await loadEngine(config, io, threads);
  const meta: ReportMeta & Required<Pick<ReportMeta, "failures">> = {
    model: engine.info.name,
    annotations: resolve(annotations),
    images: resolve(imageDir),
    startedAt: new Date().toISOString(),
    answers: 0,
    partialAnswers: 0,
    answersWithIssues: 0,
    failures: [],
  };
  const started = performance.now();
  const bar = progress(io, `eval ${plugin.name}`, queries.length);
  const samples: EvalSample[] = [];
  let mismatched = 0;
  try {
    for (const [n, query] of queries.entries()) {
      const { input } = tasks.parseInput(plugin.name, query.input);
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
        meta.answers! += 1;
        if (outcome.partial) meta.partialAnswers! += 1;
        if (outcome.issues.length > 0) meta.answersWithIssues! += 1;
        samples.push(spec.sample(query, outcome, answer, data));
      } catch (error) {
        // A query that cannot run counts as a miss, so the denominators stay the dataset's.
        meta.failures.push({ id: `${query.imageId}#${n}`, error: String(error) });
        samples.push(spec.sample(query, null, null, data));
      }
      bar.tick(n + 1);
    }
  } finally {
    await engine.close();
  }
  meta.durationMs = Math.round(performance.now() - started);
  const report: EvalReport = {
    version: 1,
    task: plugin.name,
    meta,
    ...scoreSamples(spec, samples, data),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, json);
  if (values.json) {
    // The report alone on stdout (`padt eval ... --json | jq .`); progress went to stderr.
    io.out(json.trimEnd());
  } else {
    io.out(formatSummary(report));
    const reference = Object.entries(report.reference ?? {});
    if (reference.length > 0) io.out("  as the PyTorch reference (tools/padt/train/evaluate.py):");
    for (const [k, v] of reference)
      io.out(`    ${k.padEnd(24)}${COUNTS.has(k) ? v : v.toFixed(4)}`);
  }
  if (mismatched > 0) io.err(`warning: ${mismatched} prompts differ from the dataset's`);
  return meta.failures.length === queries.length && queries.length > 0 ? 1 : 0;
}
