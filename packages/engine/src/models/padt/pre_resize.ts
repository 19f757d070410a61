/**
 * What the PaDT reference scripts do to an image before the Qwen processor sees it.
 *
 * eval/test_demo.py (the demo, and our default with longSide 644):
 *   1. qwen_vl_utils.process_vision_info -> fetch_image: smart_resize with qwen_vl_utils'
 *      own bounds (min 4*28*28, max 16384*28*28 pixels; sides at least 28) and PIL's
 *      default filter for RGB, bicubic;
 *   2. scale = 644 / max(w, h); new size = (int(w * scale), int(h * scale)), truncated, and
 *      PIL LANCZOS resize, applied to every image, so small images are enlarged too.
 * Then the processor applies its own smart_resize and bicubic resize.
 *
 * eval/evaluation_scripts and training (longSide null): no resize, except that an image with
 * a side under 28 px has its shorter side enlarged to 28 (LANCZOS, int() truncation), since
 * the transformers 4.50 processor refuses such images.
 *
 * Ours, after either: the bundle's cap on the long side (`max_long_side`, the largest input the
 * vision tower was trained or validated at). The tower's attention is dense within full-attention
 * blocks, so its memory grows with the square of the patch count: a 3000x2000 photo at the
 * processor's own 12.8 MP bound is about 30,000 patches and tens of GB. A larger image is
 * resized down to the cap (LANCZOS, the pre-resize filter), then processed as any other.
 */
import { ErrorCode, PadtError } from "@padt/protocol";
import { resizeRgb } from "../../image/resize.js";
import type { RgbImage } from "../../image/types.js";
import { checkAspectRatio, QWEN_VL_UTILS_RESIZE, smartResize } from "./smart_resize.js";

/** The smallest side the processor takes, in px (one 28-px cell). */
const FACTOR = 28;

/** qwen_vl_utils.vision_process.smart_resize with its default bounds. Returns [height, width]. */
export function qwenVlUtilsSmartResize(height: number, width: number): [number, number] {
  return smartResize(height, width, QWEN_VL_UTILS_RESIZE);
}

/** Sizes [height, width] after the demo's two resizes, without touching pixels. */
export function demoPreResizeSizes(
  height: number,
  width: number,
  longSide: number,
): { fetched: [number, number]; final: [number, number] } {
  const [h, w] = qwenVlUtilsSmartResize(height, width);
  // Same double arithmetic as Python's int(im_w * scale): truncation, not rounding.
  const scale = longSide / Math.max(w, h);
  const final: [number, number] = [Math.trunc(h * scale), Math.trunc(w * scale)];
  if (final[0] < 1 || final[1] < 1) {
    throw new PadtError(
      ErrorCode.IMAGE_SHAPE_UNSUPPORTED,
      `image is too thin to resize to ${longSide} px`,
    );
  }
  return { fetched: [h, w], final };
}

/** The demo's two resizes (steps 1 and 2 above). */
export function demoPreResize(image: RgbImage, longSide: number): RgbImage {
  const { fetched, final } = demoPreResizeSizes(image.height, image.width, longSide);
  // A size already a multiple of 28 keeps its pixels: no copy (the result is only read).
  const step1 =
    fetched[0] === image.height && fetched[1] === image.width
      ? image
      : resizeRgb(image, fetched[1], fetched[0], "bicubic");
  if (final[0] === step1.height && final[1] === step1.width) return step1;
  return resizeRgb(step1, final[1], final[0], "lanczos");
}

/** Size [height, width] after the eval scripts' rule for images with a side under 28 px. */
export function enlargeToMinSideSize(height: number, width: number): [number, number] {
  if (width >= FACTOR && height >= FACTOR) return [height, width];
  checkAspectRatio(height, width);
  return width < height
    ? [Math.trunc(height * (FACTOR / width)), FACTOR]
    : [FACTOR, Math.trunc(width * (FACTOR / height))];
}

/** The eval scripts' rule for images with a side under 28 px. */
export function enlargeToMinSide(image: RgbImage): RgbImage {
  const [height, width] = enlargeToMinSideSize(image.height, image.width);
  if (height === image.height && width === image.width) return image;
  return resizeRgb(image, width, height, "lanczos");
}

/**
 * Size [height, width] under the cap on the long side: unchanged when it fits, else each side
 * `floor(side * cap / long side)` in integer arithmetic (so the long side is exactly the cap;
 * Python: `side * cap // long`), but never below min(side, 28): a thin image keeps the 28 px
 * the processor needs and stays as thin as it was.
 */
export function capLongSideSize(height: number, width: number, cap: number): [number, number] {
  const long = Math.max(height, width);
  if (long <= cap) return [height, width];
  const side = (s: number) => Math.max(Math.min(s, FACTOR), Math.floor((s * cap) / long));
  return [side(height), side(width)];
}

/** Resizes an image whose long side exceeds `cap` down to it (see capLongSideSize). */
export function capLongSide(image: RgbImage, cap: number): RgbImage {
  const [height, width] = capLongSideSize(image.height, image.width, cap);
  if (height === image.height && width === image.width) return image;
  return resizeRgb(image, width, height, "lanczos");
}
