import { ErrorCode, PadtError } from "@padt/protocol";
import { pythonRound } from "./python_math.js";

export interface SmartResizeOptions {
  readonly factor: number;
  readonly minPixels: number;
  readonly maxPixels: number;
  /**
   * qwen_vl_utils' rule (what the PaDT demo's fetch_image runs): a side under `factor` becomes
   * one cell. Without it, transformers' processor refuses such an image.
   */
  readonly atLeastOneCell?: boolean;
}

/** qwen_vl_utils.vision_process's default bounds (4 to 16384 cells of 28 px). */
export const QWEN_VL_UTILS_RESIZE: SmartResizeOptions = Object.freeze({
  factor: 28,
  minPixels: 4 * 28 * 28,
  maxPixels: 16384 * 28 * 28,
  atLeastOneCell: true,
});

const MAX_RATIO = 200;

export function checkAspectRatio(height: number, width: number): void {
  if (Math.max(height, width) / Math.min(height, width) > MAX_RATIO) {
    throw new PadtError(
      ErrorCode.IMAGE_SHAPE_UNSUPPORTED,
      `image is ${width}x${height}: the aspect ratio must not exceed ${MAX_RATIO}`,
      { width, height },
    );
  }
}

/**
 * The one smart_resize (transformers 4.50.3's, or qwen_vl_utils' with `atLeastOneCell`), with
 * Python's round, as tools/padt/grid.py. Returns [height, width].
 */
export function smartResize(
  height: number,
  width: number,
  options: SmartResizeOptions,
): [number, number] {
  const { factor, minPixels, maxPixels } = options;
  if (!options.atLeastOneCell && (height < factor || width < factor)) {
    throw new PadtError(
      ErrorCode.IMAGE_SHAPE_UNSUPPORTED,
      `image is ${width}x${height}: both sides must be at least ${factor} px`,
      { width, height },
    );
  }
  checkAspectRatio(height, width);
  let h = Math.max(factor, pythonRound(height / factor) * factor);
  let w = Math.max(factor, pythonRound(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.floor(height / beta / factor) * factor;
    w = Math.floor(width / beta / factor) * factor;
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}
