import type { PadtManifest } from "../bundle/manifest.js";
import type { ImageProcessorConfig } from "../models/padt/image_processing.js";

/**
 * The image processor settings of a bundle, for the workers' preprocessing and the main
 * thread's grid answers alike (one source, so an upload's grid is the one the model uses).
 * `longSide`: the engine option (undefined: the bundle's default; null: no pre-resize).
 */
export function bundleProcessorConfig(
  manifest: PadtManifest,
  longSide: number | null | undefined,
): Partial<ImageProcessorConfig> {
  const p = manifest.image_processor;
  return {
    minPixels: p.min_pixels,
    maxPixels: p.max_pixels,
    patchSize: p.patch_size,
    mergeSize: p.merge_size,
    temporalPatchSize: p.temporal_patch_size,
    factor: p.patch_size * p.merge_size,
    mean: p.image_mean,
    std: p.image_std,
    longSide: longSide === undefined ? p.default_long_side : longSide,
    maxLongSide: p.max_long_side,
  };
}
