#!/usr/bin/env node
// Engine benchmark: the same REC workload through @padt/engine (onnxruntime-node, worker
// thread) and through the PyTorch reference (tools/), in one run, on the same weights.
// Prints prefill ms, decode tokens/s, end-to-end latency and peak RSS, and the ratios.
// Usage: npm run bench -w @padt/bench   (after npm run build)
//   BENCH_BUNDLE / BENCH_CHECKPOINT choose the model (default: the tiny random fixture,
//   whose checkpoint is regenerated from its seed), BENCH_TOKENS, BENCH_REPEATS, BENCH_THREADS.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PadtEngine } from "@padt/engine";

const root = fileURLToPath(new URL("../..", import.meta.url));
const python = join(root, "tools/.venv/bin/python");
const bundle = process.env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const imagePath = join(root, "packages/engine/test/fixtures/images/rgb_448x336.jpg");
const prompt =
  'Please carefully check the image and detect the object this sentence describes: "the red circle".';
const tokens = Number(process.env.BENCH_TOKENS ?? 32);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const threads = Number(process.env.BENCH_THREADS ?? 2);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function engineRuns() {
  const engine = await PadtEngine.load({ bundle, threads });
  const turns = [
    {
      role: "user",
      content: [
        { type: "image", data: new Uint8Array(readFileSync(imagePath)) },
        { type: "text", text: prompt },
      ],
    },
  ];
  const runs = [];
  for (let i = 0; i <= repeats; i++) {
    const started = performance.now();
    const result = await engine.run(turns, { maxNewTokens: tokens });
    const total = performance.now() - started;
    if (i === 0) continue; // warm-up (first image encode, graph initialisation)
    runs.push({
      prefill_ms: result.usage.prefillMs,
      decode_tokens_per_s: (result.usage.completionTokens - 1) / (result.usage.decodeMs / 1000),
      end_to_end_ms: total,
      tokens: result.usage.completionTokens,
    });
  }
  await engine.close();
  return { runs, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

function referenceRuns() {
  let checkpoint = process.env.BENCH_CHECKPOINT;
  let scratch;
  if (!checkpoint) {
    scratch = mkdtempSync(join(tmpdir(), "padt-bench-"));
    checkpoint = join(scratch, "ckpt");
    const made = spawnSync(
      python,
      [
        "-c",
        `from padt.tiny import save_tiny_checkpoint; save_tiny_checkpoint(${JSON.stringify(checkpoint)}, seed=0)`,
      ],
      {
        cwd: join(root, "tools"),
        encoding: "utf8",
      },
    );
    if (made.status !== 0) throw new Error(made.stderr);
  }
  const out = spawnSync(
    python,
    [
      join(root, "bench/engine/reference.py"),
      checkpoint,
      imagePath,
      prompt,
      String(tokens),
      String(repeats),
      String(threads),
    ],
    {
      cwd: join(root, "tools"),
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH: join(root, "tools") },
    },
  );
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split("\n").at(-1));
}

const ts = await engineRuns();
const py = referenceRuns();
const row = (name, key, better) => {
  const a = median(ts.runs.map((r) => r[key]));
  const b = median(py.runs.map((r) => r[key]));
  const ratio = better === "higher" ? a / b : b / a;
  console.log(
    `${name.padEnd(24)} engine ${a.toFixed(1).padStart(9)}   reference ${b.toFixed(1).padStart(9)}   engine is ${ratio.toFixed(2)}x ${ratio >= 1 ? "better" : "worse"}`,
  );
};
console.log(
  `bundle ${bundle}; ${tokens} new tokens, median of ${repeats} runs, ${threads} threads`,
);
row("prefill ms", "prefill_ms", "lower");
row("decode tokens/s", "decode_tokens_per_s", "higher");
row("end-to-end REC ms", "end_to_end_ms", "lower");
console.log(
  `${"peak RSS MB".padEnd(24)} engine ${ts.peak_rss_mb.toFixed(0).padStart(9)}   reference ${py.peak_rss_mb.toFixed(0).padStart(9)}`,
);
