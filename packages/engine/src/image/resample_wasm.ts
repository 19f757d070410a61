/**
 * Runs resize.ts's two passes in WASM SIMD (resample.wat): the same integer sums as the
 * JavaScript passes, four lanes at a time, so the bytes stay Pillow's while the work is 2-4x
 * faster than V8's scalar code. Used whenever the runtime validates the module; resize.ts keeps
 * the JavaScript passes for runtimes without WASM SIMD.
 */
import { RESAMPLE_WASM_BASE64 } from "./resample_wasm_bytes.js";

/** Taps for one axis, as resize.ts computes them (see its `Taps`). */
export interface AxisTaps {
  readonly size: number;
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly taps: Int32Array;
}

/** One resize in WASM: which passes run and on which source rows. */
export interface WasmResizeJob {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly outWidth: number;
  readonly outHeight: number;
  /** Horizontal taps, or null when the width is unchanged. */
  readonly horizontal: AxisTaps | null;
  /** Vertical taps, or null when the height is unchanged. */
  readonly vertical: AxisTaps | null;
}

/**
 * The part of the WebAssembly API used here. The engine's TypeScript libs (ES + @types/node)
 * do not declare WebAssembly; Node has had it, with SIMD, since v16.4.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Exports {
  readonly memory: WasmMemory;
  horizontal(
    src: number,
    srcStride: number,
    rows: number,
    dst: number,
    outWidth: number,
    first: number,
    taps: number,
    n: number,
  ): void;
  vertical(
    src: number,
    stride: number,
    outHeight: number,
    dst: number,
    first: number,
    taps: number,
    n: number,
  ): void;
}

const PAGE = 65536;
/** A call that needed more than this drops its instance, so one huge image does not pin memory. */
const KEEP_BYTES = 96 * 1024 * 1024;
/** Source bytes copied into the instance per horizontal call. */
const STRIP_BYTES = 4 * 1024 * 1024;
/** The passes read and write up to 15 bytes past their regions (resample.wat). */
const SLACK = 16;

let module: object | null | undefined;
let cached: Exports | null = null;

function compiled(): object | null {
  if (module === undefined) {
    const bytes = Uint8Array.from(atob(RESAMPLE_WASM_BASE64), (c) => c.charCodeAt(0));
    module = wasmApi?.validate(bytes) ? new wasmApi.Module(bytes) : null;
  }
  return module;
}

/** Whether this runtime runs the WASM passes (it validates SIMD modules). */
export function wasmResamplerAvailable(): boolean {
  return compiled() !== null;
}

/** A bump allocator over the instance's memory, for one call. */
class Layout {
  end = 0;
  take(bytes: number): number {
    const at = this.end;
    this.end = Math.ceil((at + bytes + SLACK) / 16) * 16;
    return at;
  }
}

/**
 * Every output reads `n` (the largest count) taps: windows shifted inside the input and padded
 * with zero taps, which add exactly nothing, so the WASM loops have no per-pixel trip count.
 */
function writeUniformTaps(
  heap: ArrayBuffer,
  firstAt: number,
  tapsAt: number,
  t: AxisTaps,
  end: number,
  n: number,
  rowOffset: number,
): void {
  const out = t.first.length;
  const first = new Int32Array(heap, firstAt, out);
  const taps = new Int32Array(heap, tapsAt, out * n);
  taps.fill(0);
  for (let i = 0; i < out; i++) {
    const lo = t.first[i]!;
    // Windows lie inside [rowOffset, end) and the widest spans n, so f >= rowOffset.
    const f = Math.min(lo, end - n);
    first[i] = f - rowOffset;
    const count = t.count[i]!;
    const from = i * t.size;
    taps.set(t.taps.subarray(from, from + count), i * n + lo - f);
  }
}

function maxCount(t: AxisTaps): number {
  let n = 0;
  for (let i = 0; i < t.count.length; i++) n = Math.max(n, t.count[i]!);
  return n;
}

function instance(bytes: number): Exports {
  const wasm = compiled();
  if (wasm === null || wasmApi === undefined) {
    throw new Error("WASM SIMD is not available in this runtime");
  }
  let exports = cached;
  if (exports === null) {
    exports = new wasmApi.Instance(wasm).exports as Exports;
    cached = exports;
  }
  const have = exports.memory.buffer.byteLength;
  if (bytes > have) exports.memory.grow(Math.ceil((bytes - have) / PAGE));
  return exports;
}

/** The resized RGB pixels, byte for byte those of resize.ts's JavaScript passes. */
export function wasmResize(job: WasmResizeJob): Uint8Array {
  const { data, width, height, outWidth, outHeight, horizontal: th, vertical: tv } = job;
  // Only the source rows that the vertical pass will read.
  const rowStart = tv ? tv.first[0]! : 0;
  const rowEnd = tv ? tv.first[outHeight - 1]! + tv.count[outHeight - 1]! : height;
  const rows = rowEnd - rowStart;
  const nh = th ? maxCount(th) : 0;
  const nv = tv ? maxCount(tv) : 0;
  // With a horizontal pass the source goes in by strips of rows, so a photo-sized image is
  // never copied into the instance whole (the decoded image is already a copy in JS memory).
  const stripRows = th ? Math.max(1, Math.min(rows, Math.floor(STRIP_BYTES / (width * 3)))) : rows;
  const layout = new Layout();
  const srcAt = layout.take(stripRows * width * 3);
  const interAt = th ? layout.take(rows * outWidth * 3) : srcAt;
  const outAt = tv ? layout.take(outHeight * outWidth * 3) : interAt;
  const hFirstAt = layout.take(th ? outWidth * 4 : 0);
  const hTapsAt = layout.take(outWidth * nh * 4);
  const vFirstAt = layout.take(tv ? outHeight * 4 : 0);
  const vTapsAt = layout.take(outHeight * nv * 4);
  const wasm = instance(layout.end);
  const heap = wasm.memory.buffer;
  const bytes = new Uint8Array(heap);
  if (th) {
    writeUniformTaps(heap, hFirstAt, hTapsAt, th, width, nh, 0);
    // Rows are independent in this pass; a strip's writes past its end (SLACK) land on the next
    // strip's rows of the intermediate, which that strip then overwrites.
    for (let r = rowStart; r < rowEnd; r += stripRows) {
      const n = Math.min(stripRows, rowEnd - r);
      bytes.set(data.subarray(r * width * 3, (r + n) * width * 3), srcAt);
      const dst = interAt + (r - rowStart) * outWidth * 3;
      wasm.horizontal(srcAt, width * 3, n, dst, outWidth, hFirstAt, hTapsAt, nh);
    }
  } else {
    bytes.set(data.subarray(rowStart * width * 3, rowEnd * width * 3), srcAt);
  }
  if (tv) {
    writeUniformTaps(heap, vFirstAt, vTapsAt, tv, rowEnd, nv, rowStart);
    wasm.vertical(interAt, outWidth * 3, outHeight, outAt, vFirstAt, vTapsAt, nv);
  }
  const out = new Uint8Array(heap, outAt, outWidth * outHeight * 3).slice();
  if (layout.end > KEEP_BYTES) cached = null;
  return out;
}
