/**
 * The dynamic vocabulary's logit mask (PADT_MODEL.md section 2): rows 0..V-1 are text and
 * always allowed; rows V.. are the images' prototypes concatenated in conversation order,
 * and only the current image's rows are allowed.
 */

export interface VrtRange {
  /** First allowed VRT id (V + patches of earlier images). */
  readonly start: number;
  /** One past the last allowed VRT id. */
  readonly end: number;
}

/** VRT ids of image `image`, given each image's patch count (merged tokens). */
export function vrtRange(
  textRows: number,
  patchCounts: readonly number[],
  image: number,
): VrtRange {
  if (!Number.isInteger(image) || image < 0 || image >= patchCounts.length) {
    throw new RangeError(`no image ${image} among ${patchCounts.length}`);
  }
  let start = textRows;
  for (let i = 0; i < image; i++) start += patchCounts[i]!;
  return { start, end: start + patchCounts[image]! };
}

/**
 * Additive bias over the VRT rows only [sum(patchCounts)]: 0 for image `image`'s patches,
 * `fill` for the others' (for graphs that add it to the prototype logits).
 */
export function vrtBias(
  patchCounts: readonly number[],
  image: number,
  fill = Number.NEGATIVE_INFINITY,
): Float32Array {
  const { start, end } = vrtRange(0, patchCounts, image);
  const total = patchCounts.reduce((a, b) => a + b, 0);
  const bias = new Float32Array(total).fill(fill);
  bias.fill(0, start, end);
  return bias;
}

/**
 * Additive mask over all V + sum(patchCounts) logit rows: 0 where allowed, `fill` for the
 * other images' VRTs. Build it once per image, not per step (V is ~152k rows).
 */
export function vrtLogitMask(
  textRows: number,
  patchCounts: readonly number[],
  image: number,
  fill = Number.NEGATIVE_INFINITY,
): Float32Array {
  const { start, end } = vrtRange(textRows, patchCounts, image);
  const total = patchCounts.reduce((a, b) => a + b, textRows);
  const mask = new Float32Array(total);
  mask.fill(fill, textRows, start);
  mask.fill(fill, end, total);
  return mask;
}

/** The image and patch (raster merge order) a VRT id stands for; undefined for text ids. */
export function vrtPatch(
  id: number,
  textRows: number,
  patchCounts: readonly number[],
): { image: number; patch: number } | undefined {
  if (id < textRows) return undefined;
  let patch = id - textRows;
  for (let image = 0; image < patchCounts.length; image++) {
    if (patch < patchCounts[image]!) return { image, patch };
    patch -= patchCounts[image]!;
  }
  throw new RangeError(`VRT id ${id} is past the last image`);
}
