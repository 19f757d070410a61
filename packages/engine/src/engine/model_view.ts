import type { PadtManifest } from "../bundle/manifest.js";
import type { InspectedImage, ModelInfo } from "../client.js";
import { sanitizeImage } from "../image/decode.js";
import type { ImageLimits } from "../image/types.js";
import { modelInputSize } from "../models/padt/image_processing.js";
import { bundleProcessorConfig } from "./processor_config.js";

/**
 * What a bundle tells its clients without running it: the model's description and an upload's
 * grid. One place for both the engine and the inspector (a gateway replica), so a gateway
 * gives an image the grid its workers will use.
 */
export function describeModel(
  manifest: PadtManifest,
  executionProvider: ModelInfo["executionProvider"],
  fallbackReason?: string,
): ModelInfo {
  return {
    name: manifest.model.name,
    executionProvider,
    ...(fallbackReason ? { fallbackReason } : {}),
    dtype: manifest.dtype,
    vocabSize: manifest.llm.vocab_rows,
    maxPixels: manifest.image_processor.max_pixels,
    supportedTasks: [...manifest.capabilities.tasks],
    freeChat: manifest.capabilities.free_chat,
    multiTurn: manifest.capabilities.multi_turn,
  };
}

export async function inspectForModel(
  bytes: Uint8Array,
  manifest: PadtManifest,
  options: { imageLimits?: ImageLimits; longSide?: number | null },
): Promise<InspectedImage> {
  const image = await sanitizeImage(bytes, options.imageLimits);
  const size = modelInputSize(
    image.height,
    image.width,
    bundleProcessorConfig(manifest, options.longSide),
  );
  return { ...image, gridWidth: size.gridWidth, gridHeight: size.gridHeight };
}
