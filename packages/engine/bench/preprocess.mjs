// Image preprocessing bench: decode + resize + normalise + patchify in @padt/engine, against
// the Python reference (PIL + transformers Qwen2VLImageProcessor) on the same JPEGs, same run.
// Run after `npm run build`: `npm run bench -w @padt/engine`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, preprocessImage } from "../dist/index.js";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);
const python = fileURLToPath(new URL("../../../tools/.venv/bin/python", import.meta.url));
const script = fileURLToPath(new URL("./preprocess_reference.py", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "padt-bench-"));

try {
  if (!existsSync(python))
    throw new Error(`no Python reference at ${python} (see tools/requirements.txt)`);
  const ref = spawnSync(python, [script, dir, String(ITERATIONS)], { encoding: "utf8" });
  if (ref.status !== 0) throw new Error(`reference failed: ${ref.stderr}`);
  const { images } = JSON.parse(ref.stdout);

  console.log(
    `preprocess, ms per image (mean of ${ITERATIONS}, after 1 warm-up); ratio = python / engine`,
  );
  console.log("image            longSide   engine   python   ratio");
  for (const image of images) {
    const bytes = new Uint8Array(readFileSync(image.file));
    for (const longSide of [644, null]) {
      const run = async () => preprocessImage(await decodeImage(bytes), { longSide });
      await run();
      const start = performance.now();
      for (let i = 0; i < ITERATIONS; i++) await run();
      const engine = (performance.now() - start) / ITERATIONS;
      const reference = image.ms[String(longSide)];
      const name = image.file.split("/").pop().replace("bench_", "").replace(".jpg", "");
      console.log(
        `${name.padEnd(16)} ${String(longSide).padStart(8)} ${engine.toFixed(1).padStart(8)} ${reference
          .toFixed(1)
          .padStart(8)} ${(reference / engine).toFixed(2).padStart(7)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
