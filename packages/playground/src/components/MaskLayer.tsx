import { type RleMask, rleDecodeRowMajor, rleFromMask } from "@padt/mask";
import { useEffect, useRef } from "react";

/** One ref's mask, decoded from its RLE, stretched over the displayed image in its colour. */
export function MaskLayer(props: {
  mask: RleMask;
  rgb: [number, number, number];
  opacity: number;
  refIndex: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [r, g, b] = props.rgb;
  useEffect(() => {
    if (canvas.current) paintMask(canvas.current, props.mask, [r, g, b, 255]);
  }, [props.mask, r, g, b]);
  return (
    <canvas
      ref={canvas}
      className="mask-layer"
      data-testid="ref-mask"
      data-index={props.refIndex}
      style={{ opacity: props.opacity }}
    />
  );
}

/** Paints the mask into a canvas of the mask's size, in one colour. */
function paintMask(
  canvas: HTMLCanvasElement,
  mask: RleMask,
  rgba: [number, number, number, number],
): void {
  canvas.width = mask.width;
  canvas.height = mask.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const bits = rleDecodeRowMajor(rleFromMask(mask));
  const image = ctx.createImageData(mask.width, mask.height);
  for (let p = 0; p < bits.length; p++) {
    if (!bits[p]) continue;
    image.data.set(rgba, p * 4);
  }
  ctx.putImageData(image, 0, 0);
}
