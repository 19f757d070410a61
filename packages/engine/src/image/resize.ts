/**
 * A resampler that gives Pillow's `Image.resize` results byte for byte on RGB uint8 images
 * (Pillow 11, libImaging/Resample.c, read for its behaviour): the Qwen2.5-VL processor
 * resizes with PIL bicubic, and sharp's or a browser's cubic kernels differ from it.
 *
 * What has to match, and why each detail matters:
 * - separable passes, horizontal first, each rounded and clipped to uint8 (the intermediate
 *   image is uint8 in Pillow, so rounding twice is part of the result);
 * - when downscaling, the kernel is stretched by the scale factor (antialiasing), and the
 *   taps of each output pixel are normalised to sum to 1 in double precision;
 * - the normalised taps are then fixed point with 22 fractional bits, rounded half away from
 *   zero, and each pixel accumulates from 2^21 (so that the shift rounds) and clips to 0..255;
 * - a pass whose size is unchanged is skipped, and an unchanged image is copied.
 *
 * The passes run in WASM SIMD where the runtime has it (resample_wasm.ts, 4-6x faster on
 * 1080p), else in the JavaScript below; both compute the same int32 sums.
 */
import { wasmResamplerAvailable, wasmResize } from "./resample_wasm.js";
import type { RgbImage } from "./types.js";

export type ResampleFilter = "bicubic" | "lanczos";

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Kernel {
  readonly support: number;
  readonly weight: (x: number) => number;
}

/** Keys's cubic convolution with a = -0.5, as Pillow's BICUBIC. */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Lanczos with 3 lobes, as Pillow's LANCZOS (the PaDT demo's pre-resize uses it). */
function lanczos(x: number): number {
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

const KERNELS: Record<ResampleFilter, Kernel> = {
  bicubic: { support: 2, weight: bicubic },
  lanczos: { support: 3, weight: lanczos },
};

/** Taps for one axis: output pixel i reads `count[i]` inputs from `first[i]` with `taps[i * size + k]`. */
interface Taps {
  readonly size: number;
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly taps: Int32Array;
}

function precompute(inSize: number, outSize: number, kernel: Kernel): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const taps = new Int32Array(outSize * size);
  const weights = new Float64Array(size);
  const inverse = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // Truncation toward zero, as C's (int) cast does.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const w = kernel.weight((k + lo - center + 0.5) * inverse);
      weights[k] = w;
      total += w;
    }
    for (let k = 0; k < n; k++) {
      const w = total !== 0 ? weights[k]! / total : weights[k]!;
      taps[i * size + k] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    first[i] = lo;
    count[i] = n;
  }
  return { size, first, count, taps };
}

/**
 * Sums are int32 arithmetic, as in Pillow: 22 fractional bits leave room for 255 times the
 * kernel's absolute sum (under 1.3 for Lanczos 3), so `| 0` never wraps and keeps V8 on
 * integer instructions.
 */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
}

/** Resizes rows [rowStart, rowStart + rows) of `src` horizontally to `outWidth`. */
function horizontal(
  src: RgbImage,
  rowStart: number,
  rows: number,
  outWidth: number,
  t: Taps,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * 3);
  const { data, width } = src;
  const { size, first, count, taps } = t;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + rowStart) * width * 3;
    let o = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      const base = x * size;
      const end = base + count[x]!;
      let p = rowIn + first[x]! * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let k = base; k < end; k++, p += 3) {
        const w = taps[k]!;
        r = (r + Math.imul(data[p]!, w)) | 0;
        g = (g + Math.imul(data[p + 1]!, w)) | 0;
        b = (b + Math.imul(data[p + 2]!, w)) | 0;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
    }
  }
  return out;
}

/**
 * Resizes `src` vertically to `outHeight`, its row 0 being source row `rowOffset`.
 * Accumulates whole rows, to read memory in order.
 */
function vertical(src: RgbImage, rowOffset: number, outHeight: number, t: Taps): Uint8Array {
  const stride = src.width * 3;
  const out = new Uint8Array(stride * outHeight);
  const acc = new Int32Array(stride);
  const { data } = src;
  const { size, first, count, taps } = t;
  for (let y = 0; y < outHeight; y++) {
    acc.fill(HALF);
    const base = y * size;
    const end = base + count[y]!;
    let p = (first[y]! - rowOffset) * stride;
    let k = base;
    // Four source rows at a time: fewer passes over acc (a quarter faster, same sums).
    for (; k + 3 < end; k += 4) {
      const w0 = taps[k]!;
      const w1 = taps[k + 1]!;
      const w2 = taps[k + 2]!;
      const w3 = taps[k + 3]!;
      const p1 = p + stride;
      const p2 = p1 + stride;
      const p3 = p2 + stride;
      for (let c = 0; c < stride; c++) {
        acc[c] =
          (acc[c]! +
            Math.imul(data[p + c]!, w0) +
            Math.imul(data[p1 + c]!, w1) +
            Math.imul(data[p2 + c]!, w2) +
            Math.imul(data[p3 + c]!, w3)) |
          0;
      }
      p += 4 * stride;
    }
    for (; k < end; k++, p += stride) {
      const w = taps[k]!;
      for (let c = 0; c < stride; c++) acc[c] = (acc[c]! + Math.imul(data[p + c]!, w)) | 0;
    }
    const rowOut = y * stride;
    for (let c = 0; c < stride; c++) out[rowOut + c] = clip8(acc[c]!);
  }
  return out;
}

/** Which implementation of the passes runs: WASM SIMD where available, else JavaScript. */
export type ResampleBackend = "wasm" | "js";

export function defaultResampleBackend(): ResampleBackend {
  return wasmResamplerAvailable() ? "wasm" : "js";
}

/**
 * Pillow-compatible `image.resize((width, height), filter)` for RGB uint8 pixels. Both
 * backends give the same bytes; `backend` is for tests and benchmarks.
 */
export function resizeRgb(
  image: RgbImage,
  width: number,
  height: number,
  filter: ResampleFilter = "bicubic",
  backend: ResampleBackend = defaultResampleBackend(),
): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (width === image.width && height === image.height) {
    return { width, height, data: image.data.slice() };
  }
  const kernel = KERNELS[filter];
  const tv = precompute(image.height, height, kernel);
  if (backend === "wasm") {
    const data = wasmResize({
      data: image.data,
      width: image.width,
      height: image.height,
      outWidth: width,
      outHeight: height,
      horizontal: width !== image.width ? precompute(image.width, width, kernel) : null,
      vertical: height !== image.height ? tv : null,
    });
    return { width, height, data };
  }
  let current: RgbImage = image;
  let rowOffset = 0;
  if (width !== image.width) {
    // Only the source rows that the vertical pass will read.
    const rowStart = height !== image.height ? tv.first[0]! : 0;
    const rowEnd =
      height !== image.height ? tv.first[height - 1]! + tv.count[height - 1]! : image.height;
    const th = precompute(image.width, width, kernel);
    current = {
      width,
      height: rowEnd - rowStart,
      data: horizontal(image, rowStart, rowEnd - rowStart, width, th),
    };
    rowOffset = rowStart;
  }
  if (height !== image.height) {
    current = { width, height, data: vertical(current, rowOffset, height, tv) };
  }
  return current;
}
