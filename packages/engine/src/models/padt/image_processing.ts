/**
 * The Qwen2.5-VL image processor as PaDT uses it (transformers 4.50.3 Qwen2VLImageProcessor):
 * smart_resize, PIL bicubic, x/255, CLIP normalisation, the frame repeated to T=2, and
 * patches flattened to rows of 3*2*14*14 floats in merge-block order (PADT_MODEL.md 1).
 */
import { resizeRgb } from "../../image/resize.js";
import type { RgbImage } from "../../image/types.js";
import { LruCache } from "../../utils/lru.js";
import {
  capLongSide,
  capLongSideSize,
  demoPreResize,
  demoPreResizeSizes,
  enlargeToMinSide,
  enlargeToMinSideSize,
} from "./pre_resize.js";
import { type SmartResizeOptions, smartResize } from "./smart_resize.js";

export interface ImageProcessorConfig extends SmartResizeOptions {
  readonly patchSize: number;
  readonly mergeSize: number;
  readonly temporalPatchSize: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** The PaDT demo's pre-resize of the long side (see pre_resize.ts); null skips it. */
  readonly longSide: number | null;
  /**
   * The largest long side the vision tower takes (the bundle's `max_long_side`): larger images
   * are resized down to it before smart_resize. null: no cap (the stock processor).
   */
  readonly maxLongSide: number | null;
}

export const QWEN2_5_VL_IMAGE_PROCESSOR: ImageProcessorConfig = Object.freeze<ImageProcessorConfig>(
  {
    factor: 28,
    minPixels: 3136,
    maxPixels: 12845056,
    patchSize: 14,
    mergeSize: 2,
    temporalPatchSize: 2,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    // The decoder was trained at COCO scale: the PaDT demo resizes the long side to 644 px.
    longSide: 644,
    // The stock processor has no cap; the engine always sets the bundle's.
    maxLongSide: null,
  },
);

export interface PreprocessedImage {
  /** [N, C * T * P * P] row-major, N = gridThw[1] * gridThw[2], rows in merge-block order. */
  readonly pixelValues: Float32Array;
  readonly gridThw: readonly [number, number, number];
  readonly resizedHeight: number;
  readonly resizedWidth: number;
  readonly originalHeight: number;
  readonly originalWidth: number;
}

/**
 * uint8 -> normalised float32, per channel, with numpy's arithmetic: rescale computes
 * float64(v) * (1/255) and casts to float32; normalize subtracts and divides in float32.
 * Math.fround after each double operation gives the same float32 (the subtraction is exact
 * in double, and a double division rounded to float32 equals the float32 division).
 */
function normalisationTables(config: ImageProcessorConfig): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const mean = Math.fround(config.mean[c]!);
    const std = Math.fround(config.std[c]!);
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      table[v] = Math.fround(Math.fround(v * (1 / 255)) - mean) / std;
    }
    return table;
  });
}

/**
 * Normalises and flattens an image into merge-block-ordered patch rows (the processor's
 * reshape) in one pass: each source row segment is read once, in order, and its three
 * channels written straight to every temporal frame (all frames equal: the image repeated).
 * Row layout: channel, then frame, then y, x.
 */
function patchify(
  image: RgbImage,
  config: ImageProcessorConfig,
  tables: Float32Array[],
): Float32Array {
  const { patchSize: p, mergeSize: m, temporalPatchSize: t } = config;
  const gridH = image.height / p;
  const gridW = image.width / p;
  const plane = p * p;
  const channelStride = t * plane;
  const rowLength = 3 * channelStride;
  const out = new Float32Array(gridH * gridW * rowLength);
  // The float32 values move as their bit patterns: no float32 -> double -> float32 round trip.
  const bits = new Int32Array(out.buffer);
  const data = image.data;
  const [tr, tg, tb] = tables.map((table) => new Int32Array(table.buffer)) as [
    Int32Array,
    Int32Array,
    Int32Array,
  ];
  const stride = image.width * 3;
  let row = 0;
  for (let bh = 0; bh < gridH / m; bh++) {
    for (let bw = 0; bw < gridW / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++, row += rowLength) {
          const y0 = (bh * m + mh) * p;
          const x0 = (bw * m + mw) * p;
          for (let y = 0; y < p; y++) {
            let src = (y0 + y) * stride + x0 * 3;
            const o = row + y * p;
            for (let x = 0; x < p; x++, src += 3) {
              const r = tr[data[src]!]!;
              const g = tg[data[src + 1]!]!;
              const b = tb[data[src + 2]!]!;
              let at = o + x;
              bits[at] = r;
              bits[at + channelStride] = g;
              bits[at + 2 * channelStride] = b;
              for (let f = 1; f < t; f++) {
                at += plane;
                bits[at] = r;
                bits[at + channelStride] = g;
                bits[at + 2 * channelStride] = b;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** Defaults plus the overrides that are set; rejects settings the code cannot honour. */
export function resolveImageProcessorConfig(
  overrides: Partial<ImageProcessorConfig> = {},
): ImageProcessorConfig {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config: ImageProcessorConfig = { ...QWEN2_5_VL_IMAGE_PROCESSOR, ...set };
  if (config.factor !== config.patchSize * config.mergeSize) {
    throw new RangeError(`factor ${config.factor} must equal patchSize * mergeSize`);
  }
  for (const key of ["longSide", "maxLongSide"] as const) {
    const value = config[key];
    if (value !== null && !(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`${key} must be a positive integer or null, got ${value}`);
    }
  }
  return config;
}

/**
 * Sizes [height, width] before smart_resize: the demo's pre-resize then the cap, or (no
 * pre-resize) the cap then the eval scripts' 28 px minimum, so that a thin image is enlarged
 * after it was capped and not capped below 28 px.
 */
function preResizeSizes(
  height: number,
  width: number,
  config: ImageProcessorConfig,
): [number, number] {
  const cap = (h: number, w: number) =>
    config.maxLongSide === null
      ? ([h, w] as [number, number])
      : capLongSideSize(h, w, config.maxLongSide);
  if (config.longSide !== null) {
    const [h, w] = demoPreResizeSizes(height, width, config.longSide).final;
    return cap(h, w);
  }
  const [h, w] = cap(height, width);
  return enlargeToMinSideSize(h, w);
}

/** The pixels of preResizeSizes. */
function preResize(image: RgbImage, config: ImageProcessorConfig): RgbImage {
  const cap = (i: RgbImage) =>
    config.maxLongSide === null ? i : capLongSide(i, config.maxLongSide);
  if (config.longSide !== null) return cap(demoPreResize(image, config.longSide));
  return enlargeToMinSide(cap(image));
}

/**
 * The size the vision tower sees for an image of this size, and its grid of 28-px cells,
 * computed without pixels (for clients that map boxes to patches).
 */
export function modelInputSize(
  height: number,
  width: number,
  overrides: Partial<ImageProcessorConfig> = {},
): { height: number; width: number; gridHeight: number; gridWidth: number } {
  const config = resolveImageProcessorConfig(overrides);
  const [h0, w0] = preResizeSizes(height, width, config);
  const [h, w] = smartResize(h0, w0, config);
  return { height: h, width: w, gridHeight: h / config.factor, gridWidth: w / config.factor };
}

/** The full preprocessing of one RGB image for the PaDT / Qwen2.5-VL vision tower. */
export function preprocessImage(
  image: RgbImage,
  overrides: Partial<ImageProcessorConfig> = {},
): PreprocessedImage {
  const config = resolveImageProcessorConfig(overrides);
  const source = preResize(image, config);
  const [height, width] = smartResize(source.height, source.width, config);
  // Unchanged sizes skip the resize's copy: patchify only reads.
  const resized =
    width === source.width && height === source.height
      ? source
      : resizeRgb(source, width, height, "bicubic");
  return {
    pixelValues: patchify(resized, config, normalisationTables(config)),
    gridThw: [1, height / config.patchSize, width / config.patchSize],
    resizedHeight: height,
    resizedWidth: width,
    originalHeight: image.height,
    originalWidth: image.width,
  };
}

/** A byte-bounded cache of preprocessed images, keyed by image sha256 and config. */
export class PreprocessCache {
  readonly #cache: LruCache<string, PreprocessedImage>;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.#cache = new LruCache({ maxSize: maxBytes, sizeOf: (v) => v.pixelValues.byteLength });
  }

  get bytes(): number {
    return this.#cache.size;
  }

  /**
   * Preprocesses `image` (identified by `sha256`) unless the same work is cached. The result
   * is shared between callers: treat it as read-only.
   */
  get(
    sha256: string,
    image: RgbImage,
    overrides: Partial<ImageProcessorConfig> = {},
  ): PreprocessedImage {
    const key = `${sha256}|${JSON.stringify(resolveImageProcessorConfig(overrides))}`;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const result = preprocessImage(image, overrides);
    this.#cache.set(key, result);
    return result;
  }
}
