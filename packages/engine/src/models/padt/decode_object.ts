/**
 * One object's PaDT decoder run and what its outputs mean: box in original pixels, mask at
 * the original size (COCO RLE), score. The same code runs in a model worker's thread or in
 * its decoder thread (engine/object_decoder.ts).
 */
import { rleEncode, rleToMask } from "@padt/mask";
import type { Box, RleMask } from "@padt/protocol";
import type { EncodedImage, PadtModel } from "./model.js";
import { boxToPixels, maskFromLogits } from "./postprocess.js";

export interface ObjectGeometry {
  box: Box;
  mask: RleMask;
  score: number;
}

/** `features` [k, D]: the hidden states of the object's VRTs; `size`: the original image's. */
export async function decodeObjectGeometry(
  model: Pick<PadtModel, "decode">,
  features: Float32Array,
  image: EncodedImage,
  size: { width: number; height: number },
): Promise<ObjectGeometry> {
  const result = await model.decode([features], image);
  const { h, w } = image.grid;
  const binary = maskFromLogits(
    result.maskLogits,
    { rows: 4 * h, cols: 4 * w },
    { rows: 4 * h, cols: 4 * w },
    size,
  );
  return {
    box: boxToPixels(result.boxes, size.width, size.height),
    mask: rleToMask(rleEncode(binary, size.height, size.width)),
    score: 1 / (1 + Math.exp(-(result.scoreLogits[0] as number))),
  };
}

/** Where a sequence's objects are decoded. */
export interface ObjectDecoder {
  /** `features` [k, D] of one object's VRTs; `size`: the original image's. */
  decodeObject(
    features: Float32Array,
    image: EncodedImage,
    size: { width: number; height: number },
  ): Promise<ObjectGeometry>;
  /** True when its runs do not block the caller's thread. */
  readonly offThread: boolean;
}

/** The decoder on the caller's own thread: each run blocks it (and the batch it steps). */
export function inThreadDecoder(model: Pick<PadtModel, "decode">): ObjectDecoder {
  return {
    offThread: false,
    decodeObject: (features, image, size) => decodeObjectGeometry(model, features, image, size),
  };
}
