#!/usr/bin/env node
// What a decode step costs outside the LLM graph: the same answers (the goldens' conversations,
// vision cache off) through PadtEngine (the model worker, its events posted to this thread; the
// decoder on its own thread or in the worker's) and through the same token loop in this thread
// (generatePadt over a StepScheduler, the decoder inline), rounds interleaved. Per answer: ms per
// decode step (usage.decodeMs / (completion tokens - 1), as bench/engine/run.mjs counts it) and
// the median gap between its tokens' arrivals here. In this thread the step is split further:
// the LLM session's run (onnxruntime's call with the engine's tensor wrapping), stepBatch (its
// feeds), the scheduler's step (cache rows written in) and the rest of the loop (sampling,
// tracker, detokenizer, events). Built code: npm run build first.
// Usage: node bench/engine/step-overhead.mjs   (run it under --cpu-prof to see the worker's side)
//   BENCH_BUNDLE (padt-tiny-shapes | padt-tiny-random), BENCH_TOKENS (64), BENCH_ROUNDS (5),
//   BENCH_MODES (engine,engine-per-step,engine-inline,in-process: the engine as configured by
//   default; with eventIntervalMs 0, one event message per step; with the decoder in the
//   worker's thread; this thread's loop). The in-process session-run figure includes the
//   inline decoder's runs that queue before an LLM run (its mean, not its median, shows them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PadtEngine } from "@padt/engine";
import { loadManifest } from "../../packages/engine/dist/bundle/index.js";
import { bundleProcessorConfig } from "../../packages/engine/dist/engine/processor_config.js";
import { decodeImage } from "../../packages/engine/dist/image/decode.js";
import { generatePadt } from "../../packages/engine/dist/models/padt/generate.js";
import { preprocessImage } from "../../packages/engine/dist/models/padt/image_processing.js";
import { PadtModel } from "../../packages/engine/dist/models/padt/model.js";
import { StepScheduler } from "../../packages/engine/dist/models/padt/step_scheduler.js";
import { setting } from "../lib/settings.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const name = process.env.BENCH_BUNDLE ?? "padt-tiny-shapes";
const bundle =
  name === "padt-tiny-shapes" ? join(root, "models", name) : join(root, "tests/fixtures", name);
const tokens = setting("BENCH_TOKENS", 64);
const rounds = setting("BENCH_ROUNDS", 5);
const modes = (process.env.BENCH_MODES ?? "engine,engine-per-step,engine-inline,in-process").split(
  ",",
);
const fixtures = join(root, "tests/fixtures");
const golden = JSON.parse(readFileSync(join(fixtures, `${name}.golden.json`), "utf8"));
const cases = golden.cases.filter((c) => !c.first_vrt_features && !c.generation);
const longSide = cases[0].long_side;
const chosen = cases.filter((c) => c.long_side === longSide);
const imagesOf = (c) =>
  c.images.map(
    (_, k) => new Uint8Array(readFileSync(join(fixtures, `${name}.images`, `${c.name}_${k}.png`))),
  );
const conversations = chosen.map((c) => {
  const bytes = imagesOf(c);
  return {
    bytes,
    turns: [
      {
        role: "user",
        content: [
          ...bytes.map((data) => ({ type: "image", data })),
          { type: "text", text: c.prompt },
        ],
      },
    ],
  };
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One answer's events as they arrive here: ms per step and the median gap between tokens. */
async function measure(events) {
  const arrivals = [];
  let done;
  for await (const e of events) {
    if (e.type === "text" || e.type === "vrt") {
      const now = performance.now();
      if (arrivals.length === 0 || now - arrivals.at(-1) > 0.05) arrivals.push(now);
    } else if (e.type === "done") done = e;
  }
  const steps = Math.max(1, done.usage.completionTokens - 1);
  return {
    step_ms: done.usage.decodeMs / steps,
    gap_ms: median(arrivals.slice(1).map((a, i) => a - arrivals[i])),
    steps,
  };
}

// The in-process loop, with its layers timed.
const manifest = await loadManifest(bundle, "size");
const model = await PadtModel.open(bundle, manifest, { intraOpThreads: 1 });
const overrides = bundleProcessorConfig(manifest, longSide);
// Per step of the timed rounds: the session's run, stepBatch, the scheduler's step, and the loop
// between one step's result and the next step's request.
const timed = { run: [], stepBatch: [], step: [], loop: [] };
let recording = false;
{
  const llm = model.sessions.llm;
  const run = llm.run.bind(llm);
  let inBatch = false;
  llm.run = async (feeds, outputs) => {
    const t0 = performance.now();
    const out = await run(feeds, outputs);
    if (inBatch && recording) timed.run.push(performance.now() - t0);
    return out;
  };
  const stepBatch = model.stepBatch.bind(model);
  model.stepBatch = async (...args) => {
    inBatch = true;
    const t0 = performance.now();
    const out = await stepBatch(...args);
    if (recording) timed.stepBatch.push(performance.now() - t0);
    inBatch = false;
    return out;
  };
}
async function inProcess(conversation) {
  const images = [];
  for (const data of conversation.bytes) {
    const decoded = await decodeImage(data);
    const encoded = await model.encodeImage(preprocessImage(decoded, overrides));
    images.push({ encoded, width: decoded.width, height: decoded.height });
  }
  const scheduler = new StepScheduler(model);
  const admission = scheduler.admit();
  // The scheduler's side of a step: from the member's request to its result.
  const join = admission.join.bind(admission);
  admission.join = (joining) => {
    const member = join(joining);
    const step = member.step.bind(member);
    let resolved;
    member.step = async (...args) => {
      const t0 = performance.now();
      if (recording && resolved !== undefined) timed.loop.push(t0 - resolved);
      const out = await step(...args);
      resolved = performance.now();
      if (recording) timed.step.push(resolved - t0);
      return out;
    };
    return member;
  };
  return measure(
    generatePadt(
      model,
      conversation.turns,
      images,
      { maxNewTokens: tokens },
      { maxContextTokens: 8192 },
      { cancelled: false },
      scheduler,
      admission,
    ),
  );
}

const engines = {};
for (const mode of modes) {
  if (mode === "in-process") continue;
  engines[mode] = await PadtEngine.load({
    bundle,
    threads: 1,
    cacheBytes: 0,
    longSide,
    decoderThread: mode !== "engine-inline",
    // engine-per-step: one event message per decode step (the engine's behaviour before
    // eventIntervalMs).
    ...(mode === "engine-per-step" ? { eventIntervalMs: 0 } : {}),
  });
}
const runOne = (mode, c) =>
  mode === "in-process"
    ? inProcess(c)
    : measure(engines[mode].generate(c.turns, { maxNewTokens: tokens }));

// Warm-up (sessions, allocator, JIT), then interleaved rounds.
for (const mode of modes) for (const c of conversations) await runOne(mode, c);
recording = true;
const results = Object.fromEntries(modes.map((m) => [m, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...modes].reverse() : modes;
  for (const c of conversations)
    for (const mode of order) {
      const r = await runOne(mode, c);
      results[mode].push(r);
    }
}
await Promise.all(Object.values(engines).map((e) => e.close()));

const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "-");
console.log(
  `${name}: ${conversations.length} golden conversations x ${rounds} rounds, up to ${tokens} new tokens, 1 thread, vision cache off; medians over answers`,
);
console.log("");
console.log("| path | ms per decode step | token gap here p50 (ms) |");
console.log("| --- | --- | --- |");
for (const mode of modes) {
  const rs = results[mode];
  console.log(
    `| ${mode} | ${f(median(rs.map((r) => r.step_ms)))} | ${f(median(rs.map((r) => r.gap_ms)))} |`,
  );
}
if (modes.includes("in-process") && timed.run.length > 0) {
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const both = (xs) => `${f(median(xs))} / ${f(mean(xs))}`;
  const minus = (a, b) => a.map((x, i) => x - b[i]);
  console.log("");
  console.log(`in-process, per step over ${timed.run.length} steps (ms, median / mean):`);
  console.log(`- LLM session run (onnxruntime + tensor wrapping): ${both(timed.run)}`);
  console.log(`- stepBatch beyond it (feeds, outputs): ${both(minus(timed.stepBatch, timed.run))}`);
  console.log(
    `- the scheduler's step beyond stepBatch (cache rows, requests): ${both(minus(timed.step, timed.stepBatch))}`,
  );
  console.log(
    `- the token loop between steps (sampling, tracker, detokenizer, events): ${both(timed.loop)}`,
  );
}
