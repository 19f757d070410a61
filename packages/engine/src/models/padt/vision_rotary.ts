/**
 * The vision tower's 2-D rotary embedding (transformers 4.50.3 rot_pos_emb and forward):
 * each patch has a (row, column) position in 14-px patches; the first half of the rotary
 * dims rotate by the row, the second half by the column, and the table is doubled to the
 * head dim (rotate_half layout). Rows come in window order, as the blocks consume them.
 */
import { angle, inverseFrequencies } from "./rope.js";
import type { ImageGrid, VisionGeometry } from "./vision_grid.js";

/**
 * [N, 2] (row, column) of each patch in raster-merge order: merge units in raster order,
 * the patches of each unit in raster order, images one after another.
 */
export function rasterMergePositions(
  grids: readonly ImageGrid[],
  geometry: VisionGeometry,
): Int32Array {
  const m = geometry.spatialMergeSize;
  const total = grids.reduce((sum, g) => sum + g.h * g.w, 0);
  const out = new Int32Array(total * 2);
  let k = 0;
  for (const { h, w } of grids) {
    for (let by = 0; by < h / m; by++) {
      for (let bx = 0; bx < w / m; bx++) {
        for (let dy = 0; dy < m; dy++) {
          for (let dx = 0; dx < m; dx++) {
            out[k++] = by * m + dy;
            out[k++] = bx * m + dx;
          }
        }
      }
    }
  }
  return out;
}

/** Rows of `perUnit`-row merge units, reordered as windowIndex lists the units. */
export function toWindowOrder<T extends Int32Array | Float32Array>(
  rows: T,
  windowIndex: Int32Array,
  rowWidth: number,
  perUnit: number,
): T {
  const out = rows.slice() as T;
  const block = rowWidth * perUnit;
  for (let k = 0; k < windowIndex.length; k++) {
    const from = windowIndex[k]! * block;
    out.set(rows.subarray(from, from + block), k * block);
  }
  return out;
}

/** [N, 2] patch positions in window order: what the vision blocks' rotary needs. */
export function windowOrderPositions(
  grids: readonly ImageGrid[],
  geometry: VisionGeometry,
  windowIndex: Int32Array,
): Int32Array {
  const unit = geometry.spatialMergeSize ** 2;
  return toWindowOrder(rasterMergePositions(grids, geometry), windowIndex, 2, unit);
}

export interface RotaryTables {
  /** [rows, headDim] row-major. */
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/**
 * cos/sin [N, headDim] for (row, column) positions: angles [row * f, column * f] with
 * f the headDim/4 frequencies of a headDim/2 rotary, then the whole repeated twice.
 */
export function visionRotaryTables(
  positions: Int32Array,
  headDim: number,
  theta: number,
): RotaryTables {
  if (headDim % 4 !== 0) throw new RangeError(`vision head dim ${headDim} is not a multiple of 4`);
  const freqs = inverseFrequencies(headDim / 2, theta);
  const quarter = freqs.length;
  const rows = positions.length / 2;
  const cos = new Float32Array(rows * headDim);
  const sin = new Float32Array(rows * headDim);
  for (let r = 0; r < rows; r++) {
    const base = r * headDim;
    for (let axis = 0; axis < 2; axis++) {
      const p = positions[r * 2 + axis]!;
      for (let i = 0; i < quarter; i++) {
        const a = angle(p, freqs[i]!);
        const c = Math.cos(a);
        const s = Math.sin(a);
        const d = axis * quarter + i;
        cos[base + d] = c;
        cos[base + d + 2 * quarter] = c;
        sin[base + d] = s;
        sin[base + d + 2 * quarter] = s;
      }
    }
  }
  return { cos, sin };
}
