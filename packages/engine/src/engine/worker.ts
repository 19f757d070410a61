// A model worker: loads the bundle's graphs once, then runs generations one at a time.
import { PadtError, PadtErrorCode } from "../errors.js";
import type { GenerationEvent } from "../generation/types.js";
import { decodeImage } from "../image/decode.js";
import { type ConversationImage, generatePadt } from "../models/padt/generate.js";
import { type ImageProcessorConfig, PreprocessCache } from "../models/padt/image_processing.js";
import { type EncodedImage, PadtModel } from "../models/padt/model.js";
import { serveJobs, workerInput } from "../runtime/serve.js";
import { LruCache } from "../utils/lru.js";
import type { PadtJob, PadtWorkerData, PadtWorkerInfo } from "./worker_data.js";

const data = workerInput<PadtWorkerData>();

function processorOverrides(): Partial<ImageProcessorConfig> {
  const p = data.manifest.image_processor;
  return {
    minPixels: p.min_pixels,
    maxPixels: p.max_pixels,
    patchSize: p.patch_size,
    mergeSize: p.merge_size,
    temporalPatchSize: p.temporal_patch_size,
    factor: p.patch_size * p.merge_size,
    mean: p.image_mean,
    std: p.image_std,
    longSide: data.longSide === undefined ? p.default_long_side : data.longSide,
  };
}

serveJobs<PadtJob, GenerationEvent>(async () => {
  const model = await PadtModel.open(data.bundle, data.manifest, data.session);
  const overrides = processorOverrides();
  const pixels = new PreprocessCache(data.cacheBytes / 2);
  const vision = new LruCache<string, EncodedImage>({
    maxSize: data.cacheBytes / 2,
    sizeOf: (e) =>
      e.embeds.byteLength + e.prototypes.byteLength + e.highRes.byteLength + 2 * e.cos.byteLength,
  });

  // The vision tower runs once per distinct image: conversations resend their images.
  const encode = async (bytes: Uint8Array): Promise<ConversationImage> => {
    const decoded = await decodeImage(bytes, data.imageLimits);
    let encoded = vision.get(decoded.sha256);
    if (!encoded) {
      encoded = await model.encodeImage(pixels.get(decoded.sha256, decoded, overrides));
      vision.set(decoded.sha256, encoded);
    }
    return { encoded, width: decoded.width, height: decoded.height };
  };

  const info: PadtWorkerInfo = model.provider.fallbackReason
    ? { provider: model.provider.name, fallbackReason: model.provider.fallbackReason }
    : { provider: model.provider.name };
  return {
    info,
    handler: async (job, context) => {
      const images: ConversationImage[] = [];
      for (const turn of job.turns) {
        for (const part of turn.content) {
          if (part.type === "image") images.push(await encode(part.data));
          context.throwIfCancelled();
        }
      }
      if (job.turns.length === 0)
        throw new PadtError(PadtErrorCode.PROMPT_EMPTY, "the conversation has no turns");
      for await (const event of generatePadt(
        model,
        job.turns,
        images,
        job.options,
        { maxContextTokens: data.maxContextTokens },
        context,
      )) {
        context.emit(event);
      }
    },
  };
});
