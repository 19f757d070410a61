/**
 * The LLM's 3-D (t, h, w) rope positions, as transformers 4.50.3 get_rope_index computes
 * them for images: text takes next+i on all three axes; an image's merged tokens take
 * t = next, h = next + row, w = next + col, where next is the previous maximum + 1.
 * Decode steps use cache length + rope delta (transformers.js adds the length in its
 * text-only branch instead: PITFALLS.md).
 */
import type { ImageGrid } from "./vision_grid.js";

export interface RopeIndexOptions {
  /** The image placeholder id (<|image_pad|>). */
  imagePadId: number;
  /** <|vision_start|>: an image counts only where this precedes its placeholders. */
  visionStartId: number;
  spatialMergeSize: number;
}

export interface RopeIndex {
  /** [3, L] axis-major (t row, then h, then w): transformers' position_ids[:, 0, :]. */
  readonly positions: Int32Array;
  /** max(position) + 1 - L (0 or negative once images are in). */
  readonly ropeDelta: number;
}

/** Positions of a prompt whose image placeholders were expanded for `grids`, in order. */
export function ropeIndex(
  ids: ArrayLike<number>,
  grids: readonly ImageGrid[],
  options: RopeIndexOptions,
): RopeIndex {
  const length = ids.length;
  const positions = new Int32Array(3 * length);
  const t = positions.subarray(0, length);
  const h = positions.subarray(length, 2 * length);
  const w = positions.subarray(2 * length);
  const m = options.spatialMergeSize;
  const images = countImages(ids, options);
  if (images !== grids.length) {
    throw new RangeError(`${images} images in the ids, ${grids.length} grids given`);
  }
  let next = 0; // max position so far + 1
  let st = 0; // index of the first id not yet placed
  const text = (end: number) => {
    for (; st < end; st++, next++) {
      t[st] = next;
      h[st] = next;
      w[st] = next;
    }
  };
  for (const grid of grids) {
    // As transformers: the next placeholder from st starts the image, whatever follows.
    const start = indexOf(ids, options.imagePadId, st);
    text(start);
    const rows = grid.h / m;
    const cols = grid.w / m;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || start + rows * cols > length) {
      throw new RangeError(`grid ${grid.h}x${grid.w} does not fit the ids at ${start}`);
    }
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++, st++) {
        t[st] = next;
        h[st] = next + r;
        w[st] = next + c;
      }
    }
    next += Math.max(rows, cols);
  }
  text(length);
  return { positions, ropeDelta: next - length };
}

/**
 * Positions of `count` tokens appended at cache length `cacheLength`: cacheLength + i +
 * ropeDelta on all three axes, [3, count] axis-major.
 */
export function decodePositions(cacheLength: number, ropeDelta: number, count = 1): Int32Array {
  const out = new Int32Array(3 * count);
  for (let i = 0; i < count; i++) {
    const p = cacheLength + i + ropeDelta;
    out[i] = p;
    out[count + i] = p;
    out[2 * count + i] = p;
  }
  return out;
}

/** Images as get_rope_index counts them: vision_start immediately followed by a placeholder. */
function countImages(ids: ArrayLike<number>, options: RopeIndexOptions): number {
  let n = 0;
  for (let i = 0; i + 1 < ids.length; i++) {
    if (ids[i] === options.visionStartId && ids[i + 1] === options.imagePadId) n++;
  }
  return n;
}

function indexOf(ids: ArrayLike<number>, id: number, from: number): number {
  for (let i = from; i < ids.length; i++) if (ids[i] === id) return i;
  throw new RangeError(`no image placeholder after index ${from}`);
}
