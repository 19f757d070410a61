/**
 * The batch's KV cache layout: [B, kv_heads, T, head_dim] per layer tensor, sequence b's rows
 * at 0..length_b, right-padded to T. Rebuilt only when the batch's membership changes.
 */
import type { TensorData } from "../../backend/ort.js";

/** Where one sequence's cache rows are now: row `row` of `tensors` (a batch, or its own B = 1). */
export interface CacheSource {
  tensors: readonly TensorData[];
  row: number;
  length: number;
}

type CacheArray = Float32Array | Uint16Array;

/**
 * Writes one new row per sequence into the cache at each sequence's length; the cache must have
 * room (dim 2 > every length). `rows`: per layer, the LLM graph's `appended.{i}`
 * [B, 1, (H + 2 KV) * hd], q|k|v heads packed: cache tensor 2i (keys) takes its k heads, 2i + 1
 * (values) its v heads, the last KV.
 */
export function appendRows(
  cache: readonly TensorData[],
  rows: readonly TensorData[],
  lengths: ArrayLike<number>,
): void {
  cache.forEach((tensor, index) => {
    const [batch, heads, held, hd] = tensor.dims as [number, number, number, number];
    const to = cacheArray(tensor);
    const packed = rows[index >> 1] as TensorData;
    const from = cacheArray(packed);
    const width = packed.dims[2] as number;
    // Keys are the KV heads before the last KV, values the last KV.
    const first = width - (index % 2 === 0 ? 2 : 1) * heads * hd;
    for (let b = 0; b < batch; b++) {
      const at = lengths[b] as number;
      if (at >= held) throw new Error(`KV cache full: row ${at} of ${held}`);
      for (let h = 0; h < heads; h++) {
        const src = b * width + first + h * hd;
        to.set(from.subarray(src, src + hd), ((b * heads + h) * held + at) * hd);
      }
    }
  });
}

function cacheArray(t: TensorData): CacheArray {
  if (t.type === "float32" || t.type === "float16") return t.data as CacheArray;
  throw new Error(`KV cache tensors are float32 or float16, got ${t.type}`);
}

/**
 * One tensor per layer input, [sources.length, kv, rows, hd], each source's rows copied in
 * order; `rows` defaults to the longest source (a buffer with room to grow when larger). The
 * padding is zero (never read: the graph's attention stops at each sequence's length).
 */
export function assembleCache(sources: readonly CacheSource[], rows?: number): TensorData[] {
  const first = sources[0];
  if (!first) throw new Error("assembleCache needs at least one sequence");
  const longest = Math.max(rows ?? 0, ...sources.map((s) => s.length));
  return first.tensors.map((template, layer) => {
    const [, heads, , hd] = template.dims as [number, number, number, number];
    const size = sources.length * heads * longest * hd;
    const data: CacheArray =
      template.type === "float16" ? new Uint16Array(size) : new Float32Array(size);
    sources.forEach((source, b) => {
      const from = source.tensors[layer] as TensorData;
      const held = from.dims[2] as number;
      const src = cacheArray(from);
      for (let h = 0; h < heads; h++) {
        const at = (source.row * heads + h) * held * hd;
        data.set(src.subarray(at, at + source.length * hd), (b * heads + h) * longest * hd);
      }
    });
    return { type: template.type, dims: [sources.length, heads, longest, hd], data } as TensorData;
  });
}
