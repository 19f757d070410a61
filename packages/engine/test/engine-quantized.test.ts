/**
 * Weight-only quantised bundles (the exporter's --quantize, tools/padt/export/quantize.py):
 * copies of the tiny random bundle quantised here, in a temporary directory, to int8 and int4
 * MatMulNBits. int8 runs only here: onnxruntime-node 1.30 has the 8-bit CPU kernel, the tools'
 * Python onnxruntime 1.21 does not. Parity is not expected; the bound is on the logits.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChatTurn } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { PadtEngine } from "../src/engine/index.js";
import { PadtModel, type StepInput } from "../src/models/padt/model.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const python = new URL("../../../scripts/python.mjs", import.meta.url).pathname;
const image = readFileSync(new URL("./fixtures/images/rgb_448x336.jpg", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "padt-quantized-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Largest logit difference from the fp32 bundle on the prompt below, per form (block size
 * 32, accuracy level 4: the defaults). The tiny random model's logits there span -6.7..6.7;
 * measured: int8 0.06, int4 0.51. */
const BOUNDS = { 8: 0.2, 4: 1.0 } as const;

function quantized(bits: 4 | 8): string {
  const dir = join(scratch, `int${bits}`);
  cpSync(bundle, dir, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [python, "-m", "padt.export.quantize", dir, "--bits", String(bits)],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`quantize failed: ${r.stderr}`);
  return dir;
}

async function promptLogits(dir: string): Promise<Float32Array> {
  const manifest = await loadManifest(dir);
  const model = await PadtModel.open(dir, manifest, { intraOpThreads: 1 });
  const T = 24;
  const rows = 16;
  const input: StepInput = {
    ids: BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 37) % 400)),
    imageRows: new Float32Array(0),
    positions: BigInt64Array.from({ length: 3 * T }, (_, i) => BigInt(i % T)),
    totalLength: T,
    prototypes: Float32Array.from({ length: rows * model.hidden }, (_, i) => Math.sin(i) * 0.5),
    vrtBias: new Float32Array(rows),
  };
  return (await model.step(input, model.emptyPast())).logits;
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => (Number.isFinite(v) ? Math.max(m, Math.abs(v - (b[i] ?? 0))) : m), 0);

describe.each([8, 4] as const)("an int%i bundle", (bits) => {
  let dir: string;
  beforeAll(() => {
    dir = quantized(bits);
  });

  it("records the quantisation, verifies in full, and is smaller than the fp32 one", async () => {
    const manifest = await loadManifest(dir, "full");
    expect(manifest.quantization).toMatchObject({ method: "MatMulNBits", bits, block_size: 32 });
    const size = (d: string) => statSync(join(d, "weights.bin")).size;
    expect(size(dir)).toBeLessThan(size(bundle));
  });

  it("keeps the prompt's logits within the bound of the fp32 bundle's", async () => {
    const [ref, got] = await Promise.all([promptLogits(bundle), promptLogits(dir)]);
    expect(got.length).toBe(ref.length);
    const diff = maxDiff(ref, got);
    expect(diff).toBeGreaterThan(0); // the weights did change
    expect(diff).toBeLessThan(BOUNDS[bits]);
  });

  it("answers a REC request through the engine", async () => {
    const engine = await PadtEngine.load({ bundle: dir, threads: 1, workers: 1 });
    try {
      const turns: ChatTurn[] = [
        {
          role: "user",
          content: [
            { type: "image", data: image },
            { type: "text", text: 'Please detect "the red circle".' },
          ],
        },
      ];
      const result = await engine.run(turns, { maxNewTokens: 12 });
      expect(result.finishReason).toBe("length");
      expect(result.usage.completionTokens).toBe(12);
    } finally {
      await engine.close();
    }
  });
});
