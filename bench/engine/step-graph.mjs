// One decode step of the LLM graph alone (raw onnxruntime-node session.run, no engine code),
// for one or more llm.onnx files interleaved: the graph's share of a step, and a before/after
// of a graph change (keep the old bundle's llm.onnx beside its own weights.bin).
// Fetches what the engine's batched step fetches (logits, hidden_states, appended.*).
// Usage: node bench/engine/step-graph.mjs LLM_ONNX... [--batch B] [--cache T] [--rounds N]
// Run it under /work/bin/quiet here. Prints median and p10 of 1000 runs per round.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [, value] = args.splice(at, 2);
  return Number(value);
};
const B = flag("--batch", 1);
const T = flag("--cache", 200);
const rounds = flag("--rounds", 3);
const P = 64;

async function open(file) {
  const { llm } = JSON.parse(readFileSync(join(dirname(file), "padt.json"), "utf8"));
  const { hidden_size: d, num_layers: layers, num_kv_heads: kv, head_dim: hd } = llm;
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const feeds = {
    input_ids: new ort.Tensor("int64", new BigInt64Array(B).fill(5n), [B, 1]),
    image_embeds: new ort.Tensor("float32", new Float32Array(0), [0, d]),
    position_ids: new ort.Tensor("int64", new BigInt64Array(3 * B).fill(BigInt(T)), [3, B, 1]),
    prototypes: new ort.Tensor("float32", new Float32Array(B * P * d).fill(0.01), [B, P, d]),
    vrt_bias: new ort.Tensor("float32", new Float32Array(B * P), [B, P]),
    seqlens_k: new ort.Tensor("int32", new Int32Array(B).fill(T), [B]),
    total_sequence_length: new ort.Tensor("int32", Int32Array.of(T + 1), []),
  };
  for (let i = 0; i < layers; i++)
    for (const k of ["key", "value"]) {
      const data = new Float32Array(B * kv * (T + 32) * hd).fill(0.1);
      feeds[`past_key_values.${i}.${k}`] = new ort.Tensor("float32", data, [B, kv, T + 32, hd]);
    }
  // Format 5: appended.{i}; formats 3-4: appended.{i}.key / .value.
  const fetches = [
    "logits",
    "hidden_states",
    ...session.outputNames.filter((n) => n.startsWith("appended.")),
  ];
  return { file, session, feeds, fetches };
}

const graphs = [];
for (const file of args) graphs.push(await open(file));
console.log(`decode step, B=${B}, cache ${T}, 1 thread, 1000 runs per round`);
for (let round = 0; round < rounds; round++) {
  for (const g of graphs) {
    for (let i = 0; i < 50; i++) await g.session.run(g.feeds, g.fetches);
    const times = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      await g.session.run(g.feeds, g.fetches);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const us = (q) => (times[Math.floor(q * times.length)] * 1000).toFixed(0);
    console.log(`round ${round + 1} ${g.file}: median ${us(0.5)} us, p10 ${us(0.1)} us`);
  }
}
