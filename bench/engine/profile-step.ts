// Where one decode step's time goes (Shapes bundle, 1 thread): the LLM graph (raw onnxruntime,
// and through the engine's PadtModel.step, which adds the feeds and output wrapping) and the
// JS around it (sampling, tokenizer.decode, the streaming detokenizer).
// Usage: npx tsx bench/engine/profile-step.ts [bundle] [cacheLength]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { loadManifest } from "../../packages/engine/src/bundle/load.js";
import { resolveDecoding } from "../../packages/engine/src/generation/decoding.js";
import { createSampler } from "../../packages/engine/src/generation/sampling.js";
import { PadtModel } from "../../packages/engine/src/models/padt/model.js";
import { StreamingDetokenizer } from "../../packages/engine/src/text/detokenizer.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = process.argv[2] ?? join(root, "models/padt-tiny-shapes");
const T = Number(process.argv[3] ?? 200);
const N = 400;
const manifest = await loadManifest(dir, "size");
const model = await PadtModel.open(dir, manifest, { intraOpThreads: 1 });
const { llm } = manifest;
const d = llm.hidden_size;
const protoRows = 64;
const prototypes = new Float32Array(protoRows * d).fill(0.01);
const bias = new Float32Array(protoRows);

function time(label: string, f: () => unknown, n = N) {
  f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  const ms = (performance.now() - t0) / n;
  console.log(`${label.padEnd(44)} ${(ms * 1000).toFixed(1).padStart(8)} us`);
  return ms;
}
async function timeAsync(label: string, f: () => Promise<unknown>, n = N) {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  const ms = (performance.now() - t0) / n;
  console.log(`${label.padEnd(44)} ${(ms * 1000).toFixed(1).padStart(8)} us`);
  return ms;
}

// A cache of T positions, from a prefill of T text ids.
const stepOf = (ids: BigInt64Array, positions: BigInt64Array, totalLength: number) => ({
  ids,
  imageRows: new Float32Array(0),
  positions,
  totalLength,
  prototypes,
  vrtBias: bias,
});
const promptIds = BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 7) % 400));
const promptPositions = BigInt64Array.from({ length: 3 * T }, (_, i) => BigInt(i % T));
const pre = await model.step(stepOf(promptIds, promptPositions, T), model.emptyPast());
const past = pre.present;
const one = stepOf(BigInt64Array.of(5n), BigInt64Array.of(BigInt(T), BigInt(T), BigInt(T)), T + 1);
console.log(`bundle ${dir}, cache ${T}, ${N} reps, 1 thread`);
await timeAsync("LLM step, embedding in-graph (model.step)", () => model.step(one, past));
// The raw session: the same feeds made once, so only session.run is timed.
const session = await ort.InferenceSession.create(join(dir, manifest.graphs.llm.file), {
  intraOpNumThreads: 1,
  graphOptimizationLevel: "all",
  extra: { session: { intra_op: { allow_spinning: "0" } } },
});
const feeds: Record<string, ort.Tensor> = {
  input_ids: new ort.Tensor("int64", BigInt64Array.of(5n), [1, 1]),
  image_embeds: new ort.Tensor("float32", new Float32Array(0), [0, d]),
  position_ids: new ort.Tensor("int64", BigInt64Array.from([T, T, T].map(BigInt)), [3, 1, 1]),
  // Format 3: per-sequence prototypes and bias (a batch of one here).
  prototypes: new ort.Tensor("float32", prototypes, [1, protoRows, d]),
  vrt_bias: new ort.Tensor("float32", bias, [1, protoRows]),
  seqlens_k: new ort.Tensor("int32", Int32Array.of(T), [1]),
  total_sequence_length: new ort.Tensor("int32", Int32Array.of(T + 1), []),
};
for (let i = 0; i < llm.num_layers; i++) {
  for (const [j, kv] of ["key", "value"].entries()) {
    const t = past[2 * i + j];
    if (t?.type !== "float32") throw new Error("fp32 bundle expected");
    feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor("float32", t.data, t.dims);
  }
}
await timeAsync("LLM session.run alone (raw feeds)", () => session.run(feeds));
time("feeds: id + positions written in place", () => {
  one.ids[0] = 5n;
  one.positions.fill(BigInt(T));
});
const logits = pre.logits;
const sample = createSampler(resolveDecoding({}, manifest.generation));
const seen = new Set<number>([1, 2, 3]);
time("greedy sample over logits", () => sample(logits, seen), 2000);
time("tokenizer.decode([token]) (now once per id)", () => model.tokenizer.decode([40]), 2000);
const detok = new StreamingDetokenizer(model.tokenizer, { vrtStart: llm.vocab_rows });
time("StreamingDetokenizer.push per token", () => detok.push(40), 2000);
// Interleaved, medians: the wrapper's share is the difference of these two.
const wrapped: number[] = [];
const raw: number[] = [];
for (let i = 0; i < 1000; i++) {
  let t0 = performance.now();
  await model.step(one, past);
  wrapped.push(performance.now() - t0);
  t0 = performance.now();
  await session.run(feeds);
  raw.push(performance.now() - t0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
console.log(
  `interleaved medians: model.step ${(median(wrapped) * 1000).toFixed(1)} us, session.run ${(median(raw) * 1000).toFixed(1)} us`,
);
// A real decode feeds each step's presents to the next (new output arrays every step).
{
  let chained = past;
  let length = T;
  const times: number[] = [];
  for (let i = 0; i < 600; i++) {
    const t0 = performance.now();
    const out = await model.step(
      stepOf(
        BigInt64Array.of(5n),
        BigInt64Array.of(BigInt(length), BigInt(length), BigInt(length)),
        length + 1,
      ),
      chained,
    );
    times.push(performance.now() - t0);
    chained = out.present;
    length++;
    if (length > T + 100) {
      chained = past;
      length = T;
    }
  }
  console.log(
    `chained steps (cache ${T}-${T + 100}), median ${(median(times) * 1000).toFixed(1)} us`,
  );
}
