// A model worker: loads the bundle's graphs once, then runs up to maxBatch generations at a
// time, their decode steps batched into one LLM call each (step_scheduler.ts). A job is admitted
// to the scheduler when it arrives, so its image encodes and prefill are ordered by its policy.
import { createHash } from "node:crypto";
import type { GenerationEvent } from "@padt/protocol";
import { ErrorCode, PadtError } from "@padt/protocol";
import { lastQuestion } from "../generation/fit_context.js";
import { decodeImage, readImageHeader } from "../image/decode.js";
import { inThreadDecoder, type ObjectDecoder } from "../models/padt/decode_object.js";
import { type ConversationImage, generatePadt } from "../models/padt/generate.js";
import { PreprocessCache } from "../models/padt/image_processing.js";
import { type EncodedImage, PadtModel } from "../models/padt/model.js";
import { type Admission, StepScheduler } from "../models/padt/step_scheduler.js";
import { imageUnits, trimToContext } from "../models/padt/trim_history.js";
import { type JobContext, serveJobs, workerInput } from "../runtime/serve.js";
import { LruCache } from "../utils/lru.js";
import { DecoderThread } from "./object_decoder.js";
import { bundleProcessorConfig } from "./processor_config.js";
import type { PadtJob, PadtWorkerData, PadtWorkerInfo } from "./worker_data.js";

const data = workerInput<PadtWorkerData>();

serveJobs<PadtJob, GenerationEvent>(async () => {
  // With the decoder thread, the decoder graph is opened there only.
  const model = await PadtModel.open(
    data.bundle,
    data.manifest,
    data.session,
    data.decoderThread ? ["vision", "prototypes", "llm"] : undefined,
  );
  const scheduler = new StepScheduler(model, data.scheduler);
  // Objects decode beside the batch rather than between its steps (object_decoder.ts).
  const decoder: ObjectDecoder = data.decoderThread
    ? await DecoderThread.start({
        bundle: data.bundle,
        manifest: data.manifest,
        session: data.session,
      })
    : inThreadDecoder(model);
  const overrides = bundleProcessorConfig(data.manifest, data.longSide);
  const pixels = new PreprocessCache(data.cacheBytes / 2);
  const vision = new LruCache<string, EncodedImage>({
    maxSize: data.cacheBytes / 2,
    sizeOf: (e) =>
      e.embeds.byteLength + e.prototypes.byteLength + e.highRes.byteLength + 2 * e.cos.byteLength,
  });

  // The vision tower runs once per distinct image: conversations resend their images, and a
  // cached one is not even decoded (its size comes from the header).
  const encode = async (bytes: Uint8Array, admission: Admission): Promise<ConversationImage> => {
    const cached = vision.get(createHash("sha256").update(bytes).digest("hex"));
    if (cached) {
      const { width, height } = readImageHeader(bytes);
      return { encoded: cached, width, height };
    }
    const decoded = await decodeImage(bytes, data.imageLimits);
    // Preprocessing runs on this thread too: it is part of the newcomer's call.
    const encoded = await admission.work(() =>
      model.encodeImage(pixels.get(decoded.sha256, decoded, overrides)),
    );
    vision.set(decoded.sha256, encoded);
    return { encoded, width: decoded.width, height: decoded.height };
  };

  const info: PadtWorkerInfo = model.provider.fallbackReason
    ? { provider: model.provider.name, fallbackReason: model.provider.fallbackReason }
    : { provider: model.provider.name };
  return {
    info,
    handler: async (job, context) => {
      if (job.turns.length === 0)
        throw new PadtError(ErrorCode.PROMPT_EMPTY, "the conversation has no turns");
      const admission = scheduler.admit();
      try {
        await run(job, context, admission);
      } finally {
        admission.release();
      }
    },
  };

  async function run(
    job: PadtJob,
    context: JobContext<GenerationEvent>,
    admission: Admission,
  ): Promise<void> {
    const all = job.turns.flatMap((t) =>
      t.content.flatMap((p) => (p.type === "image" ? [p.data] : [])),
    );
    let turns = job.turns;
    let kept = all.map((_, i) => i);
    const fit = !data.manifest.capabilities.multi_turn
      ? lastQuestion(job.turns)
      : job.options.trimHistory
        ? trimToContext(
            model,
            job.turns,
            all.map((bytes) => imageUnits(bytes, overrides)),
            {
              maxNewTokens: job.options.maxNewTokens ?? data.manifest.generation.max_new_tokens,
              maxContextTokens: data.maxContextTokens,
            },
          )
        : undefined;
    if (fit && fit.droppedTurns > 0) {
      ({ turns, images: kept } = fit);
      context.emit({
        type: "trimmed",
        droppedTurns: fit.droppedTurns,
        droppedImages: all.length - kept.length,
        droppedRefs: fit.droppedRefs,
      });
    }
    const images: ConversationImage[] = [];
    for (const i of kept) {
      images.push(await encode(all[i] as Uint8Array, admission));
      context.throwIfCancelled();
    }
    // Events name images by their place in the conversation the caller sent.
    const original = (image: number) => kept[image] as number;
    for await (const event of generatePadt(
      model,
      turns,
      images,
      job.options,
      { maxContextTokens: data.maxContextTokens },
      context,
      scheduler,
      admission,
      decoder,
    )) {
      if (event.type === "vrt") context.emit({ ...event, image: original(event.image) });
      else if (event.type === "object")
        context.emit({
          ...event,
          object: { ...event.object, image: original(event.object.image) },
        });
      else context.emit(event);
    }
  }
}, data.eventIntervalMs);
