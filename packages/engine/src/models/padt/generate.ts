/**
 * One PaDT generation, as events: prefill, then KV-cache decode over the dynamic
 * vocabulary; each run of visual reference tokens is decoded into box, mask and score as
 * soon as it closes. Runs inside a model worker (every graph call blocks its thread). The
 * decode steps go through a StepScheduler: the worker's one scheduler batches them with the
 * other generations it runs; this function stays the one place for a sequence's own logic
 * (its sampler, VRT tracker, detokenizer, limits), awaiting each batched step.
 */
import { rleEncode, rleToMask } from "@padt/mask";
import type {
  ChatTurn,
  DecodedObject,
  FinishReason,
  GenerateOptions,
  GenerationEvent,
  GenerationTimeline,
} from "@padt/protocol";
import { ErrorCode, PadtError } from "@padt/protocol";
import { resolveDecoding } from "../../generation/decoding.js";
import { createSampler } from "../../generation/sampling.js";
import { type OpenObject, VrtTracker } from "../../generation/vrt_tracker.js";
import { encodeChatPrompt } from "../../text/chat_template.js";
import { StreamingDetokenizer } from "../../text/detokenizer.js";
import type { TextTokenizer } from "../../text/tokenizer.js";
import type { EncodedImage, PadtModel } from "./model.js";
import { decodePositions, ropeIndex } from "./positions.js";
import { boxToPixels, maskFromLogits } from "./postprocess.js";
import { StepScheduler } from "./step_scheduler.js";
import { vrtBias } from "./vrt_mask.js";

/** An image of the conversation, encoded, with the size it had before any resizing. */
export interface ConversationImage {
  encoded: EncodedImage;
  width: number;
  height: number;
}

export interface GenerationLimits {
  /** Prompt plus answer tokens the model may hold. */
  maxContextTokens: number;
}

export interface StepControl {
  /** Polled between steps: a native call cannot be interrupted. */
  readonly cancelled: boolean;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tokenCaches = new WeakMap<TextTokenizer, Map<number, string>>();

/** Each id's text on its own, kept per tokenizer (a bundle's vocabulary does not change). */
function tokenCache(tokenizer: TextTokenizer): Map<number, string> {
  let cache = tokenCaches.get(tokenizer);
  if (!cache) {
    cache = new Map();
    tokenCaches.set(tokenizer, cache);
  }
  return cache;
}

/** The prompt's ids; `units`: each image's merge units (its tokens and its VRT rows). */
export function promptIds(
  model: Pick<PadtModel, "manifest" | "tokenizer" | "template">,
  turns: readonly ChatTurn[],
  units: readonly number[],
): Int32Array {
  return encodeChatPrompt(model.tokenizer, model.template, turns, {
    imageTokenCounts: units,
    vrt: { textRows: model.manifest.llm.vocab_rows, patchCounts: units },
  }).ids;
}

export async function* generatePadt(
  model: PadtModel,
  turns: readonly ChatTurn[],
  images: readonly ConversationImage[],
  options: GenerateOptions,
  limits: GenerationLimits,
  control: StepControl,
  scheduler: StepScheduler = new StepScheduler(model),
): AsyncGenerator<GenerationEvent> {
  const { manifest, tokenizer } = model;
  const V = manifest.llm.vocab_rows;
  const d = model.hidden;
  const maxNewTokens = options.maxNewTokens ?? manifest.generation.max_new_tokens;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new PadtError(
      ErrorCode.OPTIONS_INVALID,
      `maxNewTokens must be a positive integer (got ${maxNewTokens})`,
    );
  }
  const sample = createSampler(resolveDecoding(options, manifest.generation));
  const patchCounts = images.map((i) => i.encoded.units);
  const prototypes = concat(images.map((i) => i.encoded.prototypes));
  const ids = promptIds(model, turns, patchCounts);
  if (ids.length + maxNewTokens > limits.maxContextTokens) {
    throw new PadtError(
      ErrorCode.PROMPT_TOO_LONG,
      `the prompt has ${ids.length} tokens; with ${maxNewTokens} new tokens that exceeds the ${limits.maxContextTokens}-token context`,
      { promptTokens: ids.length, maxNewTokens, maxContextTokens: limits.maxContextTokens },
    );
  }
  const special = manifest.special_tokens;
  const { positions, ropeDelta } = ropeIndex(
    ids,
    images.map((i) => i.encoded.grid),
    {
      imagePadId: special.image_pad,
      visionStartId: special.vision_start,
      spatialMergeSize: model.geometry.spatialMergeSize,
    },
  );
  // The current image (the last one) is the only one whose patches may be pointed at.
  const bias = images.length > 0 ? vrtBias(patchCounts, images.length - 1) : new Float32Array(0);

  const started = performance.now();
  const prefill = await model.step(
    {
      ids: model.graphIds(ids, prototypes.length / d),
      imageRows: concat(images.map((i) => i.encoded.embeds)),
      positions: BigInt64Array.from(positions, (p) => BigInt(p)),
      totalLength: ids.length,
      prototypes,
      vrtBias: bias,
    },
    model.emptyPast(),
  );
  const prefillMs = performance.now() - started;
  // Wall-clock times for traces: this thread's performance.now() has its own origin.
  const wall = (t: number) => performance.timeOrigin + t;
  const timeline: GenerationTimeline = {
    prefill: { start: wall(started), end: wall(started + prefillMs) },
    decode: { start: 0, end: 0 },
    decoder: [],
  };
  // The reference's rule, for imported checkpoints that ask for it: an object that starts the
  // answer takes every prompt row in place of its first VRT's state (docs/decisions.md).
  const prefillRows = manifest.first_vrt_features === "all_prompt_rows" ? prefill.hidden : null;
  let out: { logits: Float32Array; lastHidden: Float32Array } = prefill;
  // Every id of the sequence so far (prompt, image pads, VRTs): the repetition penalty's.
  const seen = new Set<number>(ids);

  const stops = new Set(special.eos);
  const detokenizer = new StreamingDetokenizer(tokenizer, { vrtStart: V });
  const tracker = new VrtTracker({ textVocabSize: V, patchCounts });
  const tokenTexts = tokenCache(tokenizer);
  // The hidden state that predicted each VRT: the decoder's features for its object.
  const vrtFeatures = new Map<number, Float32Array>();
  let decoderMs = 0;
  let generated = 0;
  const tokenIds: number[] = [];
  let cacheLength = ids.length;
  const member = scheduler.join({
    present: prefill.present,
    length: ids.length,
    prototypes,
    vrtBias: bias,
  });
  // The tracker reads each token's own text (the reference's label rule), decoded once per id.
  const tokenText = (id: number): string => {
    let text = tokenTexts.get(id);
    if (text === undefined) {
      text = tokenizer.decode([id]);
      tokenTexts.set(id, text);
    }
    return text;
  };
  let finishReason: FinishReason = "length";
  const decodeStart = performance.now();
  timeline.decode.start = wall(decodeStart);

  const decodeObject = async (object: OpenObject): Promise<DecodedObject> => {
    const t0 = performance.now();
    const image = images[object.image] as ConversationImage;
    const features = concat(
      object.steps.map((s) =>
        s === 0 && prefillRows ? prefillRows : (vrtFeatures.get(s) as Float32Array),
      ),
    );
    const result = await model.decode([features], image.encoded);
    const { h, w } = image.encoded.grid;
    const binary = maskFromLogits(
      result.maskLogits,
      { rows: 4 * h, cols: 4 * w },
      { rows: 4 * h, cols: 4 * w },
      { height: image.height, width: image.width },
    );
    const t1 = performance.now();
    decoderMs += t1 - t0;
    timeline.decoder.push({ object: object.index, start: wall(t0), end: wall(t1) });
    for (const s of object.steps) vrtFeatures.delete(s);
    return {
      index: object.index,
      label: object.label,
      image: object.image,
      patches: object.patches,
      box: boxToPixels(result.boxes, image.width, image.height),
      mask: rleToMask(rleEncode(binary, image.height, image.width)),
      score: 1 / (1 + Math.exp(-(result.scoreLogits[0] as number))),
    };
  };

  try {
    while (generated < maxNewTokens) {
      if (control.cancelled) {
        finishReason = "cancelled";
        break;
      }
      const token = sample(out.logits, seen);
      seen.add(token);
      const step = generated++;
      if (stops.has(token)) {
        finishReason = "stop";
        break;
      }
      tokenIds.push(token);
      const isVrt = token >= V;
      if (isVrt) vrtFeatures.set(step, out.lastHidden);
      for (const event of tracker.push(token, isVrt ? "" : tokenText(token), step)) {
        if (event.type === "vrt") yield event;
        else yield { type: "object", object: await decodeObject(event.object) };
      }
      const text = detokenizer.push(token);
      if (text) yield { type: "text", text };
      if (generated >= maxNewTokens) break;
      out = await member.step(token, decodePositions(cacheLength, ropeDelta));
      cacheLength++;
    }
  } finally {
    // Finished, cancelled or failed: the others' next step no longer waits for this one.
    member.leave();
  }
  const tail = detokenizer.flush();
  if (tail) yield { type: "text", text: tail };
  for (const event of tracker.finish()) {
    if (event.type === "close") yield { type: "object", object: await decodeObject(event.object) };
  }
  const decodeEnd = performance.now();
  timeline.decode.end = wall(decodeEnd);
  yield {
    type: "done",
    finishReason,
    tokenIds,
    usage: {
      promptTokens: ids.length,
      completionTokens: generated,
      prefillMs,
      decodeMs: decodeEnd - decodeStart - decoderMs,
      decoderMs,
    },
    timeline,
  };
}
