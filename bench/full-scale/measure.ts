// One bundle of the full-scale rehearsal (bench/full-scale/run.sh), one phase per process so
// that no process holds two copies of a 15 GB bundle. Prints one JSON line.
//   npx tsx bench/full-scale/measure.ts engine BUNDLE IMAGE THREADS
//     PadtEngine.load to ready (default verification: size only above 1 GiB), one REC answer
//     on IMAGE (the bundle pre-resizes it to 644 px), peak RSS of the process.
//   npx tsx bench/full-scale/measure.ts steps BUNDLE THREADS WEIGHT_BYTES T1,T2,...
//     The streaming bandwidth (a 256 MiB copy, best of 5: bytes read + written, as
//     bench/engine/reference.py), then one decode step on a cache of T rows for each T
//     (median of 5, after a warm-up) as the engine's decode runs it (stepBatch at B = 1 into a
//     cache buffer), each against its bandwidth floor: (the weight bytes a step reads + the
//     cache rows) / bandwidth; and the same step through PadtModel.step (whole present cache
//     returned: the prefill path's call, which the rehearsals before this one timed).
import { readFileSync } from "node:fs";
import { loadManifest } from "../../packages/engine/src/bundle/load.js";
import { PadtEngine } from "../../packages/engine/src/engine/index.js";
import { PadtModel } from "../../packages/engine/src/models/padt/model.js";

const peakRssBytes = () => {
  const line = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+) kB/);
  return line ? Number(line[1]) * 1024 : Number.NaN;
};
// BENCH_PREPACK=0: onnxruntime keeps the weights where the weights file maps them.
const PREPACK = process.env.BENCH_PREPACK !== "0";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function engine(bundle: string, imagePath: string, threads: number) {
  const t0 = performance.now();
  const e = await PadtEngine.load({ bundle, threads, workers: 1, prepackWeights: PREPACK });
  const readyS = (performance.now() - t0) / 1000;
  const rssReady = peakRssBytes();
  const turns = [
    {
      role: "user" as const,
      content: [
        { type: "image" as const, data: readFileSync(imagePath) },
        { type: "text" as const, text: 'Please detect "the red car" in this image.' },
      ],
    },
  ];
  const t1 = performance.now();
  const r = await e.run(turns, { maxNewTokens: 12 });
  const recS = (performance.now() - t1) / 1000;
  await e.close();
  const u = r.usage;
  return {
    phase: "engine",
    prepack: PREPACK,
    bundle,
    threads,
    ready_s: readyS,
    peak_rss_ready_bytes: rssReady,
    peak_rss_bytes: peakRssBytes(),
    rec: {
      seconds: recS,
      prompt_tokens: u.promptTokens,
      completion_tokens: u.completionTokens,
      prefill_ms: u.prefillMs,
      decode_ms: u.decodeMs,
      decoder_ms: u.decoderMs,
      step_s: u.decodeMs / 1000 / Math.max(1, u.completionTokens - 1),
      finish: r.finishReason,
      objects: r.objects.length,
    },
  };
}

function bandwidthBytesPerS(): number {
  const a = new Float32Array(64 * 1024 * 1024).fill(1);
  const b = new Float32Array(a.length);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    b.set(a);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return (2 * a.byteLength) / best;
}

async function steps(bundle: string, threads: number, weightBytes: number, lengths: number[]) {
  const bandwidth = bandwidthBytesPerS();
  const manifest = await loadManifest(bundle);
  const model = await PadtModel.open(bundle, manifest, {
    intraOpThreads: threads,
    prepackWeights: PREPACK,
  });
  const { num_layers, num_kv_heads, head_dim, hidden_size } = manifest.llm;
  const f16 = manifest.kv_dtype === "float16";
  const kvBytesPerToken = 2 * num_layers * num_kv_heads * head_dim * (f16 ? 2 : 4);
  const rows = 368; // one 644 x 448 image's prototypes
  const prototypes = new Float32Array(rows * hidden_size).fill(0.01);
  const vrtBias = new Float32Array(rows);
  const cache = (capacity: number) => {
    // Zeros: the work per step does not depend on the values.
    const dims = [1, num_kv_heads, capacity, head_dim];
    const n = num_kv_heads * capacity * head_dim;
    return Array.from({ length: 2 * num_layers }, () =>
      f16
        ? { type: "float16" as const, dims, data: new Uint16Array(n) }
        : { type: "float32" as const, dims, data: new Float32Array(n) },
    );
  };
  const timed = async (run: () => Promise<unknown>) => {
    await run();
    const times = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await run();
      times.push((performance.now() - t) / 1000);
    }
    return median(times);
  };
  const out = [];
  for (const T of lengths) {
    // What the engine's decode runs (the step scheduler, at B = 1): a cache buffer with room
    // for the answer, only the appended rows come back (kv_batch.appendRows writes them in).
    const buffer = cache(T + 256);
    const stepS = await timed(() =>
      model.stepBatch(
        {
          ids: BigInt64Array.of(13n),
          positions: BigInt64Array.of(BigInt(T), BigInt(T), BigInt(T)),
          lengths: Int32Array.of(T),
          prototypes,
          vrtBias,
        },
        buffer,
      ),
    );
    // The prefill path's call (PadtModel.step), which returns the whole present cache: not
    // what decode runs; kept to compare with the rehearsals before format 4's batched decode.
    const past = cache(T);
    const presentS = await timed(() =>
      model.step(
        {
          ids: BigInt64Array.of(13n),
          imageRows: new Float32Array(0),
          positions: BigInt64Array.of(BigInt(T), BigInt(T), BigInt(T)),
          totalLength: T + 1,
          prototypes,
          vrtBias,
        },
        past,
      ),
    );
    const floorS = (weightBytes + kvBytesPerToken * T) / bandwidth;
    out.push({
      T,
      step_s: stepS,
      floor_s: floorS,
      x_floor: stepS / floorS,
      present_step_s: presentS,
      present_x_floor: presentS / floorS,
    });
  }
  return {
    phase: "steps",
    prepack: PREPACK,
    bundle,
    threads,
    bandwidth_gb_s: bandwidth / 1e9,
    weight_bytes_per_step: weightBytes,
    kv_bytes_per_token: kvBytesPerToken,
    steps: out,
    peak_rss_bytes: peakRssBytes(),
  };
}

const [phase, bundle, ...rest] = process.argv.slice(2);
if (!bundle) throw new Error("usage: measure.ts engine|steps BUNDLE ...");
const result =
  phase === "engine"
    ? await engine(bundle, rest[0] as string, Number(rest[1] ?? 2))
    : await steps(
        bundle,
        Number(rest[0] ?? 2),
        Number(rest[1]),
        (rest[2] ?? "434,4000").split(",").map(Number),
      );
console.log(JSON.stringify(result));
