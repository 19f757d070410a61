import { rleDecodeRowMajor, rleFromMask } from "@padt/mask";
import { colourOf } from "./palette.js";
import type { VisualRef } from "./types.js";

/** The image at its own size with the refs' masks, boxes and labels painted on, as a PNG blob. */
export async function annotatedPng(
  img: HTMLImageElement,
  refs: VisualRef[],
  opacity: number,
): Promise<Blob> {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("No 2D canvas in this browser");
  ctx.drawImage(img, 0, 0);
  const line = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 300));
  for (const ref of refs) {
    const [r, g, b] = colourOf(ref.index);
    if (ref.mask) {
      const layer = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const bits = rleDecodeRowMajor(rleFromMask(ref.mask));
      for (let p = 0; p < bits.length; p++) {
        if (!bits[p]) continue;
        const o = p * 4;
        layer.data[o] = layer.data[o]! * (1 - opacity) + r * opacity;
        layer.data[o + 1] = layer.data[o + 1]! * (1 - opacity) + g * opacity;
        layer.data[o + 2] = layer.data[o + 2]! * (1 - opacity) + b * opacity;
      }
      ctx.putImageData(layer, 0, 0);
    }
    if (ref.box) {
      ctx.strokeStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.lineWidth = line;
      ctx.strokeRect(ref.box.x, ref.box.y, ref.box.width, ref.box.height);
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.font = `${line * 6}px system-ui, sans-serif`;
      const text = `${ref.label || `object ${ref.index + 1}`}${ref.score != null ? ` ${ref.score.toFixed(2)}` : ""}`;
      ctx.fillText(text, ref.box.x, Math.max(line * 6, ref.box.y - line));
    }
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("PNG encoding failed"))),
      "image/png",
    ),
  );
}
