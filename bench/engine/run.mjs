#!/usr/bin/env node
// Engine benchmark, like for like: full REC answers through @padt/engine (onnxruntime-node,
// worker thread) and through the PyTorch reference (tools/, a long-lived process), on the same
// weights, the same images and the same preprocessing (the bundle's own settings, passed to
// the reference), with the engine's vision cache off, runs interleaved (engine first on even
// rounds, reference first on odd ones) and the thread count fixed on both sides. Several images,
// so no cache can help. Prints medians, the ratios, the machine's floors (streaming bandwidth,
// GEMM) measured in the same run, and each decode step as a multiple of its memory floor
// (the bytes one step must read / the bandwidth). A last row times the engine with its vision
// cache on (a second answer on the same image), which the reference does not have.
// Usage: npm run build && node bench/engine/run.mjs [--json]
//   BENCH_BUNDLE (models/padt-tiny-shapes), BENCH_CHECKPOINT (default: imported from the
//   bundle with padt.export.importer), BENCH_THREADS (1), BENCH_TOKENS (64), BENCH_IMAGES (6),
//   BENCH_ROUNDS (3).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PadtEngine } from "@padt/engine";
import { setting } from "../lib/settings.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const python = join(root, "tools/.venv/bin/python");
const env = process.env;
const bundle = env.BENCH_BUNDLE ?? join(root, "models/padt-tiny-shapes");
const threads = setting("BENCH_THREADS", 1);
const tokens = setting("BENCH_TOKENS", 64);
const imageCount = setting("BENCH_IMAGES", 6);
const rounds = setting("BENCH_ROUNDS", 3);
const asJson = process.argv.includes("--json");
const log = (line) => (asJson ? process.stderr : process.stdout).write(`${line}\n`);

const scratch = mkdtempSync(join(tmpdir(), "padt-bench-engine-"));
const pythonEnv = {
  ...env,
  PYTHONPATH: join(root, "tools"),
  // numpy's and torch's BLAS pools: the same thread count as the engine.
  OMP_NUM_THREADS: String(threads),
  OPENBLAS_NUM_THREADS: String(threads),
  MKL_NUM_THREADS: String(threads),
};

function checkpointDir() {
  if (env.BENCH_CHECKPOINT) return env.BENCH_CHECKPOINT;
  const out = join(scratch, "checkpoint");
  const made = spawnSync(python, ["-m", "padt.export.importer", bundle, "--out", out], {
    cwd: join(root, "tools"),
    encoding: "utf8",
    env: pythonEnv,
  });
  if (made.status !== 0) throw new Error(`importing ${bundle}: ${made.stderr}`);
  return out;
}

/** The reference process: `ask(i)` answers image i; `ready` has its images and floors. */
function startReference(checkpoint, processor) {
  const opt = (v) => (v === null || v === undefined ? "none" : String(v));
  const child = spawn(
    python,
    [
      join(root, "bench/engine/reference.py"),
      checkpoint,
      String(threads),
      opt(processor.default_long_side),
      opt(processor.max_long_side),
      String(tokens),
      String(imageCount),
      scratch,
    ],
    { cwd: join(root, "tools"), env: pythonEnv, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error("the reference process ended early");
    return JSON.parse(value);
  };
  return {
    ready: next(),
    ask: async (i) => {
      child.stdin.write(`${JSON.stringify({ image: i })}\n`);
      return next();
    },
    close: () => child.kill(),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

const manifest = JSON.parse(readFileSync(join(bundle, "padt.json"), "utf8"));
const eos = new Set(manifest.special_tokens.eos);
const reference = startReference(checkpointDir(), manifest.image_processor);
try {
  const ready = await reference.ready;
  const engine = await PadtEngine.load({ bundle, threads, cacheBytes: 0 });
  const turnsOf = (image) => [
    {
      role: "user",
      content: [
        { type: "image", data: new Uint8Array(readFileSync(image.path)) },
        { type: "text", text: image.prompt },
      ],
    },
  ];
  const engineRun = async (image, on = engine) => {
    const started = performance.now();
    const r = await on.run(turnsOf(image), { maxNewTokens: tokens });
    const end = performance.now() - started;
    return {
      prompt_tokens: r.usage.promptTokens,
      tokens: r.usage.completionTokens,
      ids: r.tokenIds,
      prefill_ms: r.usage.prefillMs,
      decode_ms: r.usage.decodeMs,
      decode_tokens_per_s: (r.usage.completionTokens - 1) / (r.usage.decodeMs / 1000),
      decoder_ms: r.usage.decoderMs,
      objects: r.objects.length,
      end_to_end_ms: end,
    };
  };

  // Warm-up on both sides (graph initialisation, first allocations), not counted.
  await engineRun(ready.images[0]);
  await reference.ask(0);
  const runs = { engine: [], reference: [] };
  let sameIds = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < ready.images.length; i++) {
      const image = ready.images[i];
      const pair = {};
      if (round % 2 === 0) {
        pair.engine = await engineRun(image);
        pair.reference = await reference.ask(i);
      } else {
        pair.reference = await reference.ask(i);
        pair.engine = await engineRun(image);
      }
      runs.engine.push(pair.engine);
      runs.reference.push(pair.reference);
      // The reference's ids end with the stop token; the engine's answer ids do not.
      const refIds = pair.reference.ids.filter((id, k, all) => k < all.length - 1 || !eos.has(id));
      if (JSON.stringify(pair.engine.ids) === JSON.stringify(refIds)) sameIds++;
    }
  }
  const engineRssMb = process.resourceUsage().maxRSS / 1024;
  await engine.close();

  // The engine with its vision cache on: the second answer on each image.
  const cached = await PadtEngine.load({ bundle, threads });
  const cachedRuns = [];
  for (const image of ready.images) {
    await engineRun(image, cached);
    cachedRuns.push(await engineRun(image, cached));
  }
  await cached.close();

  const bandwidth = ready.floors.bandwidth_gb_s * 1e9;
  // The floor of one decode step: weights plus the KV rows cached by then (mid-answer).
  const floorMs = (r) =>
    (1000 *
      (ready.step.weight_bytes +
        ready.step.kv_bytes_per_token * (r.prompt_tokens + r.tokens / 2))) /
    bandwidth;
  const stepMs = (r) => r.decode_ms / Math.max(1, r.tokens - 1);
  const metrics = {
    prefill_ms: (r) => r.prefill_ms,
    decode_tokens_per_s: (r) => r.decode_tokens_per_s,
    step_ms: stepMs,
    step_x_floor: (r) => stepMs(r) / floorMs(r),
    decoder_ms_per_object: (r) => (r.objects ? r.decoder_ms / r.objects : Number.NaN),
    end_to_end_ms: (r) => r.end_to_end_ms,
  };
  const higherIsBetter = new Set(["decode_tokens_per_s"]);
  const summary = {};
  for (const [name, f] of Object.entries(metrics)) {
    const e = median(runs.engine.map(f).filter(Number.isFinite));
    const p = median(runs.reference.map(f).filter(Number.isFinite));
    summary[name] = {
      engine: e,
      reference: p,
      engine_cached: median(cachedRuns.map(f).filter(Number.isFinite)),
      // > 1: the engine is better.
      ratio: higherIsBetter.has(name) ? e / p : p / e,
    };
  }
  const report = {
    bundle,
    threads,
    max_new_tokens: tokens,
    images: ready.images.map((i) => i.size),
    rounds,
    preprocessing: {
      default_long_side: manifest.image_processor.default_long_side,
      max_long_side: manifest.image_processor.max_long_side,
    },
    prompt_tokens: median(runs.engine.map((r) => r.prompt_tokens)),
    same_token_ids: `${sameIds} of ${runs.engine.length}`,
    floors: ready.floors,
    step_bytes: ready.step,
    peak_rss_mb: {
      engine: engineRssMb,
      reference: median(runs.reference.map((r) => r.peak_rss_mb)),
    },
    summary,
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
    log(
      `${bundle.split("/").at(-1)}: ${ready.images.length} Shapes images x ${rounds} rounds, ` +
        `REC, up to ${tokens} new tokens, ${threads} thread(s) on both sides, preprocessing ` +
        `long side ${manifest.image_processor.default_long_side ?? "as is"} / cap ` +
        `${manifest.image_processor.max_long_side}, ${report.prompt_tokens} prompt tokens (median), ` +
        `same token ids ${report.same_token_ids}`,
    );
    log(
      `floors: streaming ${f(ready.floors.bandwidth_gb_s)} GB/s, GEMM ${f(ready.floors.gemm_gflop_s)} GFLOP/s; ` +
        `a decode step reads ${f(ready.step.weight_bytes / 1e6, 2)} MB of weights + ` +
        `${ready.step.kv_bytes_per_token} B per cached token`,
    );
    log("");
    log("| median | engine | reference | engine / reference | engine, vision cache hit |");
    log("| --- | --- | --- | --- | --- |");
    const rows = [
      ["prefill (ms)", "prefill_ms", 2],
      ["decode (tokens/s)", "decode_tokens_per_s", 0],
      ["decode step (ms)", "step_ms", 3],
      ["decode step / memory floor", "step_x_floor", 2],
      ["decoder per object (ms)", "decoder_ms_per_object", 2],
      ["end-to-end REC (ms)", "end_to_end_ms", 1],
    ];
    for (const [label, key, d] of rows) {
      const s = summary[key];
      const ratio = key === "step_x_floor" ? "-" : `${f(s.ratio, 2)}x`;
      log(
        `| ${label} | ${f(s.engine, d)} | ${f(s.reference, d)} | ${ratio} | ${f(s.engine_cached, d)} |`,
      );
    }
    log(`| peak RSS (MB) | ${f(engineRssMb, 0)} | ${f(report.peak_rss_mb.reference, 0)} | - | - |`);
    log("");
    log("engine / reference: > 1 means the engine is faster (time ratios are reference / engine).");
  }
} finally {
  reference.close();
  rmSync(scratch, { recursive: true, force: true });
}
