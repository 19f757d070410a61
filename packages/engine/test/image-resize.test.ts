import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeImage } from "../src/image/decode.js";
import { wasmResamplerAvailable } from "../src/image/resample_wasm.js";
import { type ResampleBackend, type ResampleFilter, resizeRgb } from "../src/image/resize.js";
import { fixtureBytes, fixtures, summarise } from "./image-fixtures.js";

const BACKENDS: ResampleBackend[] = ["wasm", "js"];

// The resampler must give Pillow's bytes exactly: the fixtures hold sha256 of PIL's output.
describe.each(BACKENDS)("resizeRgb (%s passes) matches Pillow's Image.resize", (backend) => {
  for (const image of fixtures.images) {
    for (const c of image.resize) {
      it(`${image.file} -> ${c.width}x${c.height} ${c.filter}`, async () => {
        const decoded = await decodeImage(fixtureBytes(image.file));
        const out = resizeRgb(decoded, c.width, c.height, c.filter, backend);
        const got = summarise(out.data, c.width * 3);
        expect(got.first).toEqual(c.first);
        expect(got.middle).toEqual(c.middle);
        expect(got.lastTail).toEqual(c.lastTail);
        expect(got.sum).toBe(c.sum);
        expect(got.sha256).toBe(c.sha256);
      });
    }
  }
});

/** Deterministic noise: every byte value, no structure for a wrong tap to hide in. */
function noise(width: number, height: number, seed: number) {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

describe("the WASM SIMD passes", () => {
  it("are available on this runtime (the engine's default)", () => {
    expect(wasmResamplerAvailable()).toBe(true);
  });

  // Sizes where the uniform-tap windows shift at the borders, widths that are not multiples of
  // the 16-byte lanes, single pixels, large up- and downscales, the demo's two steps.
  const cases: [number, number, number, number][] = [
    [1, 1, 1, 7],
    [3, 1, 5, 9],
    [5, 5, 1, 1],
    [17, 5, 17, 40],
    [40, 17, 3, 17],
    [37, 53, 12, 26],
    [37, 53, 75, 60],
    [100, 300, 33, 99],
    [300, 100, 999, 101],
    [448, 448, 644, 644],
    [700, 500, 644, 460],
    [1000, 700, 28, 28],
    // Sources above one 4 MB strip of the horizontal pass, row counts not a multiple of it.
    [2000, 1001, 448, 224],
    [2501, 900, 2600, 1000],
  ];
  for (const [w, h, ow, oh] of cases) {
    for (const filter of ["bicubic", "lanczos"] as ResampleFilter[]) {
      it(`give the JavaScript passes' bytes: ${w}x${h} -> ${ow}x${oh} ${filter}`, () => {
        const image = noise(w, h, w * 31 + h);
        const wasm = resizeRgb(image, ow, oh, filter, "wasm").data;
        const js = resizeRgb(image, ow, oh, filter, "js").data;
        expect(wasm.length).toBe(ow * oh * 3);
        // One boolean rather than a diff of two large arrays (slow in vitest).
        expect(Buffer.compare(Buffer.from(wasm), Buffer.from(js))).toBe(0);
      });
    }
  }

  it("leave the source untouched and reuse their memory across calls", () => {
    const image = noise(64, 48, 5);
    const before = image.data.slice();
    const a = resizeRgb(image, 30, 20, "lanczos", "wasm").data;
    const b = resizeRgb(noise(200, 150, 6), 640, 480, "bicubic", "wasm").data;
    const again = resizeRgb(image, 30, 20, "lanczos", "wasm").data;
    expect(Buffer.compare(Buffer.from(image.data), Buffer.from(before))).toBe(0);
    expect(b.length).toBe(640 * 480 * 3);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(again))).toBe(0);
  });
});

describe("resample_wasm_bytes.ts", () => {
  it("is what resample.wat assembles to", () => {
    const script = fileURLToPath(new URL("../scripts/assemble-resample-wasm.mjs", import.meta.url));
    const run = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
