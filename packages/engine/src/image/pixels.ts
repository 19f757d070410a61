/**
 * Pixel conversions done in TypeScript, with the integer formulas of Pillow 11 (Convert.c,
 * Paste.c, ImagingUtils.h), so that the engine sees the same bytes as the Python reference.
 */

/** Pillow's MULDIV255/DIV255: a rounded division by 255 with shifts. */
function div255(v: number): number {
  const t = v + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * CMYK (not inverted) to RGB as Pillow's `convert("RGB")` does: R = (255 - K) * (1 - C / 255),
 * no colour management. The reference model saw CMYK JPEGs this way; an ICC transform
 * (what libvips would do) gives visibly different colours.
 */
export function cmykToRgb(cmyk: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const nk = 255 - cmyk[i * 4 + 3]!;
    out[i * 3] = nk - div255(cmyk[i * 4]! * nk);
    out[i * 3 + 1] = nk - div255(cmyk[i * 4 + 1]! * nk);
    out[i * 3 + 2] = nk - div255(cmyk[i * 4 + 2]! * nk);
  }
  return out;
}

/**
 * RGBA onto an opaque white background, with the rounding of Pillow's `paste(image,
 * mask=alpha)` onto a white RGB image: what qwen_vl_utils' `to_rgb` (used by the PaDT demo)
 * does. Why white and not the processor's own `convert("RGB")`: that one drops alpha without
 * compositing, so transparent areas show whatever colour the encoder left there (often
 * black, sometimes garbage); white is what a viewer shows and what the demo fed the model.
 */
export function flattenOnWhite(rgba: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const a = rgba[i * 4 + 3]!;
    const background = 255 * (255 - a);
    out[i * 3] = div255(background + rgba[i * 4]! * a);
    out[i * 3 + 1] = div255(background + rgba[i * 4 + 1]! * a);
    out[i * 3 + 2] = div255(background + rgba[i * 4 + 2]! * a);
  }
  return out;
}
