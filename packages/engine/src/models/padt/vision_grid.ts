/**
 * The grid-only inputs of Qwen2.5-VL's vision tower, as transformers 4.50.3 computes them
 * (Qwen2_5_VisionTransformerPretrainedModel.get_window_index / forward). The stock code
 * builds them with Python lists, so a traced graph would only fit one grid: the engine
 * computes them here and feeds them in (PITFALLS.md).
 *
 * Sequence units: a "patch" is one 14-px row of the tower's input; a "merge unit" is a
 * 2x2 block of patches (one LLM token). Several images are concatenated in order.
 */

/** An image's grid in 14-px patches (t = 1: images are one temporal patch). */
export interface ImageGrid {
  readonly h: number;
  readonly w: number;
}

export interface VisionGeometry {
  /** Pixels per patch side (14). */
  readonly patchSize: number;
  /** Patches per merge-unit side (2). */
  readonly spatialMergeSize: number;
  /** Window side in pixels (112: 4x4 merge units). */
  readonly windowSize: number;
}

export interface WindowLayout {
  /** Patches over all images. */
  readonly patches: number;
  /** Merge unit at each window-order position (global: offset by earlier images' units). */
  readonly windowIndex: Int32Array;
  /** argsort(windowIndex): window-order position of each raster merge unit. */
  readonly reverseIndex: Int32Array;
  /** Window boundaries in patches, window order, consecutive duplicates removed. */
  readonly cuWindowSeqlens: Int32Array;
  /** Image boundaries in patches (full-attention blocks). */
  readonly cuSeqlens: Int32Array;
}

/** LLM tokens of one image: grid_h * grid_w / merge^2. */
export function mergedTokenCount(grid: ImageGrid, geometry: VisionGeometry): number {
  checkGrid(grid, geometry);
  return (grid.h * grid.w) / geometry.spatialMergeSize ** 2;
}

export function windowLayout(grids: readonly ImageGrid[], geometry: VisionGeometry): WindowLayout {
  const m = geometry.spatialMergeSize;
  const unit = m * m;
  const ws = geometry.windowSize / m / geometry.patchSize; // window side in merge units
  if (!Number.isInteger(ws) || ws <= 0) throw new RangeError(`bad window size ${ws}`);
  const units = grids.reduce((sum, g) => sum + mergedTokenCount(g, geometry), 0);
  const windowIndex = new Int32Array(units);
  const cu: number[] = [0];
  let k = 0;
  let offset = 0;
  for (const grid of grids) {
    const gh = grid.h / m;
    const gw = grid.w / m;
    // transformers pads by ws - n % ws, so a side that divides evenly gains a whole empty
    // window; its zero length shows up as a repeated boundary, removed below.
    const windowsH = (gh + ws - (gh % ws)) / ws;
    const windowsW = (gw + ws - (gw % ws)) / ws;
    for (let wy = 0; wy < windowsH; wy++) {
      for (let wx = 0; wx < windowsW; wx++) {
        let length = 0;
        for (let y = wy * ws; y < Math.min((wy + 1) * ws, gh); y++) {
          for (let x = wx * ws; x < Math.min((wx + 1) * ws, gw); x++) {
            windowIndex[k++] = offset + y * gw + x;
            length++;
          }
        }
        cu.push(cu[cu.length - 1]! + length * unit);
      }
    }
    offset += gh * gw;
  }
  return {
    patches: units * unit,
    windowIndex,
    reverseIndex: inversePermutation(windowIndex),
    cuWindowSeqlens: Int32Array.from(cu.filter((v, i) => i === 0 || v !== cu[i - 1])),
    cuSeqlens: imageBoundaries(grids),
  };
}

/** The inverse of a permutation of 0..n-1 (argsort of it). */
export function inversePermutation(permutation: Int32Array): Int32Array {
  const inverse = new Int32Array(permutation.length);
  for (let i = 0; i < permutation.length; i++) inverse[permutation[i]!] = i;
  return inverse;
}

/** Block number of each position, from boundaries [0, e1, e2, ..., n]. */
export function segmentIds(cuSeqlens: Int32Array): Int32Array {
  const n = cuSeqlens[cuSeqlens.length - 1] ?? 0;
  const out = new Int32Array(n);
  for (let b = 1; b < cuSeqlens.length; b++) out.fill(b - 1, cuSeqlens[b - 1]!, cuSeqlens[b]!);
  return out;
}

/** The windows as a padded batch (the vision graph's window_slots / window_rows). */
export interface WindowBatch {
  /** Windows (W). */
  readonly count: number;
  /** Slots per window (Lw): the longest window's patches; edge windows are shorter. */
  readonly length: number;
  /** [W, Lw]: window-order patch row in each slot, left-aligned, -1 on padding slots. */
  readonly slots: Int32Array;
  /** [N]: flat slot (w * Lw + j) of each window-order patch row. */
  readonly rows: Int32Array;
}

/**
 * Windows from their boundaries [0, e1, ..., n] as a padded batch, so that the vision graph
 * attends within each window (W attentions of Lw rows) instead of over all n rows with a
 * block mask (n / Lw times the work). padt.grid.window_slots computes the same.
 */
export function windowBatch(cuWindowSeqlens: Int32Array): WindowBatch {
  const count = cuWindowSeqlens.length - 1;
  let length = 0;
  for (let w = 0; w < count; w++) {
    length = Math.max(length, cuWindowSeqlens[w + 1]! - cuWindowSeqlens[w]!);
  }
  const slots = new Int32Array(count * length).fill(-1);
  const rows = new Int32Array(cuWindowSeqlens[count] ?? 0);
  for (let w = 0; w < count; w++) {
    for (let row = cuWindowSeqlens[w]!, j = 0; row < cuWindowSeqlens[w + 1]!; row++, j++) {
      slots[w * length + j] = row;
      rows[row] = w * length + j;
    }
  }
  return { count, length, slots, rows };
}

/** float32's lowest value: transformers' eager vision attention fills masks with it. */
export const FLOAT32_LOWEST = -3.4028234663852886e38;

/**
 * Additive [n, n] mask: 0 inside each block (a window, or an image), `fill` elsewhere, so
 * tokens of different windows, or of different images, never attend to each other.
 * n^2 floats: 16k patches would take 1 GB, so the image size must stay capped.
 */
export function blockDiagonalMask(cuSeqlens: Int32Array, fill = FLOAT32_LOWEST): Float32Array {
  const n = cuSeqlens[cuSeqlens.length - 1] ?? 0;
  const mask = new Float32Array(n * n).fill(fill);
  for (let b = 1; b < cuSeqlens.length; b++) {
    const start = cuSeqlens[b - 1]!;
    const end = cuSeqlens[b]!;
    for (let row = start; row < end; row++) mask.fill(0, row * n + start, row * n + end);
  }
  return mask;
}

function imageBoundaries(grids: readonly ImageGrid[]): Int32Array {
  const cu = new Int32Array(grids.length + 1);
  grids.forEach((g, i) => {
    cu[i + 1] = cu[i]! + g.h * g.w;
  });
  return cu;
}

function checkGrid(grid: ImageGrid, geometry: VisionGeometry): void {
  const m = geometry.spatialMergeSize;
  const ok = (v: number) => Number.isInteger(v) && v > 0 && v % m === 0;
  if (!ok(grid.h) || !ok(grid.w)) {
    throw new RangeError(`grid ${grid.h}x${grid.w} is not a positive multiple of ${m}`);
  }
}
