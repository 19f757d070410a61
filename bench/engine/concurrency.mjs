#!/usr/bin/env node
// Continuous batching, measured: bursts of 1, 2, 4 and 8 answers started together on one engine
// process (one worker, its decode steps batched by the step scheduler), each answer a golden's
// image and prompt (cycled), the vision cache off so every answer encodes its image. Levels are
// interleaved over the rounds; medians are printed with the ratios to 1 from the same run:
//   aggregate decode tokens/s = completion tokens of the burst / the time at least one of its
//     answers was decoding (the newcomers' image encoding and prefill stall the batch inside it);
//   per-token latency (worker) = each answer's usage.decodeMs / (its tokens - 1): the time
//     between its decode steps where they run (p50 over the burst's answers); the like-for-like
//     measure since the worker sends events at most every eventIntervalMs (2 ms), so arrivals
//     here come in groups of several tokens;
//   per-token latency (arrival) = the gaps between one answer's tokens as they arrive on the
//     main thread (p50, and p90, where the stalls of the others' prefills show); what this bench
//     printed before eventIntervalMs, when one message came per step; with the interval it
//     measures the message interval as much as the step (BENCH_EVENT_INTERVAL=0 for the old
//     one message per step);
//   steady decode tokens/s = answers in flight / the p50 gap (the batch stepping, no stalls);
//   end-to-end tokens/s = completion tokens / the burst's wall time.
// Several engine configurations (intra-op threads x scheduling policies) are loaded side by side
// and their bursts interleaved too, so they are compared under the same machine load; ranges
// give the min-max over rounds of each round's own ratio to 1.
// Usage: npm run build && node bench/engine/concurrency.mjs [--json]
//   BENCH_BUNDLES (models/padt-tiny-shapes,tests/fixtures/padt-tiny-random), BENCH_THREADS (1;
//   a list runs each), BENCH_TOKENS (64), BENCH_ROUNDS (3), BENCH_LEVELS (1,2,4,8),
//   BENCH_POLICIES (prefill-first; a list of the engine's `admission` values, each optionally
//   with `:N` prefill tokens per call, e.g. prefill-first,interleaved,interleaved:64),
//   BENCH_DECODER (thread: the PaDT decoder on its own thread, the default; inline: in the
//   worker's thread; a list runs each), BENCH_EVENT_INTERVAL (the engine's eventIntervalMs, its
//   default when unset; a list runs each).
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PadtEngine } from "@padt/engine";
import { setting } from "../lib/settings.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const env = process.env;
const list = (name, fallback) => (env[name] ?? fallback).split(",").filter(Boolean);
const threadCounts = list("BENCH_THREADS", "1").map((t) => {
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1) throw new Error("BENCH_THREADS must list positive integers");
  return n;
});
const tokens = setting("BENCH_TOKENS", 64);
const rounds = setting("BENCH_ROUNDS", 3);
const levels = (env.BENCH_LEVELS ?? "1,2,4,8").split(",").map(Number);
const policies = list("BENCH_POLICIES", "prefill-first").map((p) => {
  const [admission, chunk = "0"] = p.split(":");
  const prefillChunk = Number(chunk);
  if (!["prefill-first", "interleaved"].includes(admission) || !Number.isInteger(prefillChunk))
    throw new Error(`BENCH_POLICIES: ${p} is not prefill-first|interleaved[:tokens]`);
  return { admission, prefillChunk };
});
const decoders = list("BENCH_DECODER", "thread");
if (decoders.some((d) => d !== "thread" && d !== "inline"))
  throw new Error("BENCH_DECODER must list thread|inline");
const intervals = list("BENCH_EVENT_INTERVAL", "default").map((v) => {
  if (v === "default") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error("BENCH_EVENT_INTERVAL must list ms >= 0");
  return n;
});
const configs = threadCounts.flatMap((threads) =>
  policies.flatMap((p) =>
    decoders.flatMap((decoder) =>
      intervals.map((eventIntervalMs) => ({ threads, ...p, decoder, eventIntervalMs })),
    ),
  ),
);
const bundles = (env.BENCH_BUNDLES ?? "models/padt-tiny-shapes,tests/fixtures/padt-tiny-random")
  .split(",")
  .map((b) => join(root, b));
const asJson = process.argv.includes("--json");
const log = (line) => (asJson ? process.stderr : process.stdout).write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The goldens' conversations for a bundle (images and prompts), cycled to the largest burst. */
function workload(bundle) {
  const name = basename(bundle);
  const fixtures = join(root, "tests/fixtures");
  const golden = JSON.parse(readFileSync(join(fixtures, `${name}.golden.json`), "utf8"));
  const cases = golden.cases.filter((c) => !c.first_vrt_features && !c.generation);
  const longSide = cases[0].long_side;
  const turns = cases
    .filter((c) => c.long_side === longSide)
    .map((c) => [
      {
        role: "user",
        content: [
          ...c.images.map((_, k) => ({
            type: "image",
            data: new Uint8Array(
              readFileSync(join(fixtures, `${name}.images`, `${c.name}_${k}.png`)),
            ),
          })),
          { type: "text", text: c.prompt },
        ],
      },
    ]);
  const n = Math.max(...levels);
  return { longSide, turns: Array.from({ length: n }, (_, i) => turns[i % turns.length]) };
}

/** The time covered by at least one of the intervals (ms). */
function covered(intervals) {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [from, to] = sorted[0];
  for (const [s, e] of sorted.slice(1)) {
    if (s > to) {
      total += to - from;
      [from, to] = [s, e];
    } else to = Math.max(to, e);
  }
  return total + to - from;
}

/** A burst: `inFlight` answers started together, each run to its end; the level's figures. */
async function runLevel(engine, turns, inFlight) {
  const start = performance.now();
  const answers = await Promise.all(
    turns.slice(0, inFlight).map(async (t) => {
      // Token arrival times on this thread: a step's events come in one message, so events
      // less than 0.05 ms apart are one token's (a VRT and the object it closes, say).
      const arrivals = [];
      let done;
      for await (const e of engine.generate(t, { maxNewTokens: tokens })) {
        if (e.type === "text" || e.type === "vrt") {
          const now = performance.now();
          if (arrivals.length === 0 || now - arrivals.at(-1) > 0.05) arrivals.push(now);
        } else if (e.type === "done") done = e;
      }
      return { done, gaps: arrivals.slice(1).map((a, i) => a - arrivals[i]) };
    }),
  );
  const wallMs = performance.now() - start;
  const done = answers.map((a) => a.done);
  const gaps = answers.flatMap((a) => a.gaps).sort((a, b) => a - b);
  const completion = done.reduce((n, d) => n + d.usage.completionTokens, 0);
  const decodeMs = covered(done.map((d) => [d.timeline.decode.start, d.timeline.decode.end]));
  return {
    completion_tokens: completion,
    aggregate_decode_tokens_per_s: completion / (decodeMs / 1000),
    per_token_worker_ms: median(
      done.map((d) => d.usage.decodeMs / Math.max(1, d.usage.completionTokens - 1)),
    ),
    per_token_ms: median(gaps),
    // Every answer of the burst steps once per batch step: the batch's tokens/s between stalls.
    steady_decode_tokens_per_s: (inFlight * 1000) / median(gaps),
    per_token_p90_ms: gaps[Math.floor(0.9 * (gaps.length - 1))],
    end_to_end_tokens_per_s: completion / (wallMs / 1000),
    prefill_ms: median(done.map((d) => d.usage.prefillMs)),
  };
}

const report = { max_new_tokens: tokens, rounds, levels, bundles: [] };
/** Min and max over rounds of round i's `key` at a level over round i's at 1. */
const ratioRange = (one, at, key) => {
  const ratios = at.map((r, i) => r[key] / one[i][key]);
  return [Math.min(...ratios), Math.max(...ratios)];
};
for (const bundle of bundles) {
  const { longSide, turns } = workload(bundle);
  const engines = [];
  try {
    for (const config of configs) {
      engines.push(
        await PadtEngine.load({
          bundle,
          threads: config.threads,
          cacheBytes: 0,
          longSide,
          maxBatch: Math.max(...levels),
          admission: config.admission,
          prefillChunk: config.prefillChunk,
          decoderThread: config.decoder === "thread",
          ...(config.eventIntervalMs === undefined
            ? {}
            : { eventIntervalMs: config.eventIntervalMs }),
        }),
      );
    }
    // Warm-up: sessions, allocator, JIT.
    for (const engine of engines) await runLevel(engine, turns, Math.max(...levels));
    const runs = engines.map(() => levels.map(() => []));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [...levels].reverse() : levels;
      for (const c of order)
        for (const [e, engine] of engines.entries())
          runs[e][levels.indexOf(c)].push(await runLevel(engine, turns, c));
    }
    for (const [e, config] of configs.entries()) {
      const byLevel = runs[e];
      const rows = levels.map((c, l) => {
        const r = byLevel[l];
        const row = { in_flight: c };
        for (const key of Object.keys(r[0])) row[key] = median(r.map((x) => x[key]));
        return row;
      });
      const one = rows[0];
      for (const [l, row] of rows.entries()) {
        row.aggregate_x_1 = row.aggregate_decode_tokens_per_s / one.aggregate_decode_tokens_per_s;
        row.aggregate_x_1_range = ratioRange(
          byLevel[0],
          byLevel[l],
          "aggregate_decode_tokens_per_s",
        );
        row.per_token_worker_x_1 = row.per_token_worker_ms / one.per_token_worker_ms;
        row.per_token_worker_x_1_range = ratioRange(byLevel[0], byLevel[l], "per_token_worker_ms");
        row.per_token_x_1 = row.per_token_ms / one.per_token_ms;
        row.per_token_x_1_range = ratioRange(byLevel[0], byLevel[l], "per_token_ms");
        row.steady_x_1 = row.steady_decode_tokens_per_s / one.steady_decode_tokens_per_s;
      }
      report.bundles.push({ bundle: basename(bundle), long_side: longSide, ...config, rows });
    }
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
}

if (asJson) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const range = ([lo, hi]) => `${f(lo, 2)}-${f(hi, 2)}`;
  for (const b of report.bundles) {
    log(
      `${b.bundle}: bursts of ${levels.join("/")} answers (up to ${tokens} new tokens), one engine worker, ` +
        `${b.threads} thread(s), ${b.admission}, prefill ${b.prefillChunk ? `in chunks of ${b.prefillChunk}` : "whole"}, decoder ${b.decoder === "thread" ? "on its own thread" : "in the worker's thread"}, ` +
        `events every ${b.eventIntervalMs ?? "(default) "}ms at most, vision cache off, medians of ${rounds} rounds`,
    );
    log("");
    log(
      "| in flight | aggregate decode tokens/s | x 1 | x 1 range | per-token, worker p50 (ms) | x 1 | x 1 range | steady decode tokens/s (arrival) | x 1 | per-token, arrival p50 (ms) | x 1 | x 1 range | p90 (ms) | end-to-end tokens/s | prefill (ms) |",
    );
    log(
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const r of b.rows) {
      log(
        `| ${r.in_flight} | ${f(r.aggregate_decode_tokens_per_s, 0)} | ${f(r.aggregate_x_1, 2)} | ` +
          `${range(r.aggregate_x_1_range)} | ` +
          `${f(r.per_token_worker_ms, 3)} | ${f(r.per_token_worker_x_1, 2)} | ${range(r.per_token_worker_x_1_range)} | ` +
          `${f(r.steady_decode_tokens_per_s, 0)} | ${f(r.steady_x_1, 2)} | ` +
          `${f(r.per_token_ms, 2)} | ${f(r.per_token_x_1, 2)} | ${range(r.per_token_x_1_range)} | ` +
          `${f(r.per_token_p90_ms, 2)} | ` +
          `${f(r.end_to_end_tokens_per_s, 0)} | ` +
          `${f(r.prefill_ms, 2)} |`,
      );
    }
    log("");
  }
}
