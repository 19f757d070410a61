#!/usr/bin/env node
// Image preprocessing bench, like for like: encoded PNG/JPEG bytes -> pixel_values as the vision
// tower gets them, in @padt/engine (sharp decode, the PIL-exact resampler, normalise + patchify)
// and in the Python reference (tools/padt/processing.py: PIL decode, the demo's pre-resize,
// transformers' Qwen2VLImageProcessor), on the same images, with and without the demo's 644 px
// pre-resize. One thread each side (libvips and libuv pools at 1; OMP/BLAS at 1), runs
// interleaved (engine first on even rounds, the reference first on odd ones), each side timed in
// its own process, medians printed with the ratio reference / engine (> 1: the engine is faster)
// and whether the two tensors are byte-identical.
// Usage: npm run build && node bench/engine/preprocess.mjs [--json]
//   BENCH_ROUNDS (15, after 2 warm-up rounds). BENCH_FROM_SRC=1 with `node --import tsx` runs
//   the engine's TypeScript sources instead of dist/.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setting } from "../lib/settings.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const env = process.env;
const rounds = setting("BENCH_ROUNDS", 15);
const WARMUP = 2;
const asJson = process.argv.includes("--json");
const log = (line) => (asJson ? process.stderr : process.stdout).write(`${line}\n`);

// One libvips worker, as PIL decodes on the calling thread; set before sharp loads.
const sharp = createRequire(join(root, "packages/engine/package.json"))("sharp");
sharp.concurrency(1);
const from = env.BENCH_FROM_SRC
  ? (p) => join(root, "packages/engine/src", `${p}.ts`)
  : (p) => join(root, "packages/engine/dist", `${p}.js`);
const { decodeImage } = await import(from("image/decode"));
const { preprocessImage } = await import(from("models/padt/image_processing"));

const scratch = mkdtempSync(join(tmpdir(), "padt-bench-preprocess-"));
const child = spawn(
  join(root, "tools/.venv/bin/python"),
  [join(root, "bench/engine/preprocess_reference.py"), scratch],
  {
    cwd: join(root, "tools"),
    env: {
      ...env,
      PYTHONPATH: join(root, "tools"),
      OMP_NUM_THREADS: "1",
      OPENBLAS_NUM_THREADS: "1",
      MKL_NUM_THREADS: "1",
    },
    stdio: ["pipe", "pipe", "inherit"],
  },
);
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  if (done) throw new Error("the reference process ended early");
  return JSON.parse(value);
};
const reference = (file, longSide) => {
  child.stdin.write(`${JSON.stringify({ file, long_side: longSide })}\n`);
  return next();
};

const engine = async (bytes, longSide) => {
  // A fresh copy each run, as each request brings its own bytes: libvips' operation cache
  // must not see the same buffer twice.
  const input = bytes.slice();
  const started = performance.now();
  const out = preprocessImage(await decodeImage(input), { longSide, maxLongSide: null });
  const ms = performance.now() - started;
  const v = out.pixelValues;
  const sha256 = createHash("sha256")
    .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    .digest("hex");
  return { ms, shape: [v.length / 1176, 1176], sha256 };
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

try {
  const ready = await next();
  const cases = ready.images.flatMap((image) =>
    [644, null].map((longSide) => ({
      ...image,
      name: image.file.split("/").pop().replace("bench_", ""),
      bytes: new Uint8Array(readFileSync(image.file)),
      longSide,
      engineMs: [],
      referenceMs: [],
      identical: true,
    })),
  );
  for (let round = 0; round < WARMUP + rounds; round++) {
    for (const c of cases) {
      const sides = [() => engine(c.bytes, c.longSide), () => reference(c.file, c.longSide)];
      const [e, r] =
        round % 2 === 0
          ? [await sides[0](), await sides[1]()]
          : await sides[1]().then(async (rr) => [await sides[0](), rr]);
      c.identical &&= e.sha256 === r.sha256;
      if (round < WARMUP) continue;
      c.engineMs.push(e.ms);
      c.referenceMs.push(r.ms);
    }
  }
  const rows = cases.map((c) => {
    const engineMs = median(c.engineMs);
    const referenceMs = median(c.referenceMs);
    return {
      image: c.name,
      encodedBytes: c.bytes.length,
      longSide: c.longSide,
      engineMs,
      referenceMs,
      ratio: referenceMs / engineMs,
      identical: c.identical,
    };
  });
  const settings = {
    date: new Date().toISOString(),
    rounds,
    warmup: WARMUP,
    threads: 1,
    node: process.version,
    sharp: sharp.versions.sharp,
    vips: sharp.versions.vips,
    pillow: ready.pillow,
    numpy: ready.numpy,
    python: ready.python,
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ settings, rows }, null, 2)}\n`);
  } else {
    log(
      `preprocess (decode -> pixel_values), ms, medians of ${rounds} interleaved rounds, 1 thread;` +
        " ratio = reference / engine (> 1: engine faster)",
    );
    log(
      `node ${process.version}, libvips ${sharp.versions.vips}; Pillow ${ready.pillow}, numpy ${ready.numpy}`,
    );
    log("image            longSide   engine  reference   ratio  identical");
    for (const r of rows) {
      log(
        `${r.image.padEnd(16)} ${String(r.longSide).padStart(8)} ${r.engineMs.toFixed(2).padStart(8)} ${r.referenceMs
          .toFixed(2)
          .padStart(10)} ${r.ratio.toFixed(2).padStart(7)}  ${r.identical ? "yes" : "NO"}`,
      );
    }
  }
} finally {
  child.kill();
  rmSync(scratch, { recursive: true, force: true });
}
