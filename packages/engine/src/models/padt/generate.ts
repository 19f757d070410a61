/**
 * One PaDT generation, as events: prefill, then KV-cache decode over the dynamic
 * vocabulary; each run of visual reference tokens is decoded into box, mask and score as
 * soon as it closes. Runs inside a model worker (every graph call blocks its thread). The
 * decode steps go through a StepScheduler: the worker's one scheduler batches them with the
 * other generations it runs; this function stays the one place for a sequence's own logic
 * (its sampler, VRT tracker, detokenizer, limits), awaiting each batched step. Its prefill
 * calls go through its admission (the scheduler orders them against the batch's steps), in
 * chunks when the policy asks for them.
 */
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
import { inThreadDecoder, type ObjectDecoder } from "./decode_object.js";
import type { EncodedImage, PadtModel, StepOutput } from "./model.js";
import { decodePositions, ropeIndex } from "./positions.js";
import { prefillChunks } from "./prefill_chunks.js";
import { type Admission, StepScheduler } from "./step_scheduler.js";
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

/**
 * `admission`: the sequence's place in `scheduler`, opened when its job arrived (before its
 * images were encoded); one is opened here when not given. Released when this ends.
 * `decoder`: where its objects are decoded (default: this thread). The token loop does not
 * wait for an object's decoder run: its `object` event comes when the run ends (after the
 * object's last `vrt` event, maybe after later text: the collector places objects when they
 * open).
 */
export async function* generatePadt(
  model: PadtModel,
  turns: readonly ChatTurn[],
  images: readonly ConversationImage[],
  options: GenerateOptions,
  limits: GenerationLimits,
  control: StepControl,
  scheduler: StepScheduler = new StepScheduler(model),
  admission: Admission = scheduler.admit(),
  decoder: ObjectDecoder = inThreadDecoder(model),
): AsyncGenerator<GenerationEvent> {
  try {
    yield* generateAdmitted(model, turns, images, options, limits, control, admission, decoder);
  } finally {
    admission.release();
  }
}

async function* generateAdmitted(
  model: PadtModel,
  turns: readonly ChatTurn[],
  images: readonly ConversationImage[],
  options: GenerateOptions,
  limits: GenerationLimits,
  control: StepControl,
  admission: Admission,
  decoder: ObjectDecoder,
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

  const allPrompt = manifest.first_vrt_features === "all_prompt_rows";
  const chunks = prefillChunks(
    model.graphIds(ids, prototypes.length / d),
    concat(images.map((i) => i.encoded.embeds)),
    BigInt64Array.from(positions, (p) => BigInt(p)),
    V + prototypes.length / d,
    d,
    admission.policy.chunkTokens,
  );
  // prefillMs counts the calls themselves, not the waits between them (others' calls).
  let started = 0;
  let prefillEnd = 0;
  let prefillMs = 0;
  let past = model.emptyPast();
  let prefill: StepOutput | undefined;
  const hiddens: Float32Array[] = [];
  for (const chunk of chunks) {
    prefill = await admission.work(async () => {
      const t0 = performance.now();
      if (!started) started = t0;
      const result = await model.step({ ...chunk, prototypes, vrtBias: bias }, past);
      prefillEnd = performance.now();
      prefillMs += prefillEnd - t0;
      return result;
    });
    past = prefill.present;
    if (allPrompt) hiddens.push(prefill.hidden);
  }
  if (!prefill) throw new PadtError(ErrorCode.PROMPT_EMPTY, "the prompt has no tokens");
  // Wall-clock times for traces: this thread's performance.now() has its own origin.
  const wall = (t: number) => performance.timeOrigin + t;
  const timeline: GenerationTimeline = {
    prefill: { start: wall(started), end: wall(prefillEnd) },
    decode: { start: 0, end: 0 },
    decoder: [],
  };
  // The reference's rule, for imported checkpoints that ask for it: an object that starts the
  // answer takes every prompt row in place of its first VRT's state (docs/decisions.md).
  const prefillRows = allPrompt ? concat(hiddens) : null;
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
  const member = admission.join({
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
  // Decoding starts at the sequence's first batch step (the time it waited for newcomers'
  // prefills before it is theirs, not decode time); an answer of one token has none.
  let decodeStart = performance.now();
  let stepped = false;

  // Decoder runs in flight, in the order their objects closed; each settles into its event.
  const decoding: { settled: boolean; event?: GenerationEvent; error?: unknown }[] = [];
  let waitedMs = 0;
  const startDecode = (object: OpenObject): Promise<void> => {
    const image = images[object.image] as ConversationImage;
    const features = concat(
      object.steps.map((s) =>
        s === 0 && prefillRows ? prefillRows : (vrtFeatures.get(s) as Float32Array),
      ),
    );
    for (const s of object.steps) vrtFeatures.delete(s);
    const slot: (typeof decoding)[number] = { settled: false };
    decoding.push(slot);
    const t0 = performance.now();
    // Only the size: the decoder thread's message would otherwise clone every encoded array.
    const size = { width: image.width, height: image.height };
    return decoder.decodeObject(features, image.encoded, size).then(
      (geometry) => {
        const t1 = performance.now();
        decoderMs += t1 - t0;
        timeline.decoder.push({ object: object.index, start: wall(t0), end: wall(t1) });
        const decoded: DecodedObject = {
          index: object.index,
          label: object.label,
          image: object.image,
          patches: object.patches,
          ...geometry,
        };
        slot.event = { type: "object", object: decoded };
        slot.settled = true;
      },
      (error: unknown) => {
        slot.error = error;
        slot.settled = true;
      },
    );
  };
  const runs: Promise<void>[] = [];
  /** The finished runs' events, in order; with `all`, waits for every run. */
  async function* settledObjects(all: boolean): AsyncGenerator<GenerationEvent> {
    if (all && decoding.some((d) => !d.settled)) {
      const t0 = performance.now();
      await Promise.all(runs);
      waitedMs += performance.now() - t0;
    }
    while (decoding[0]?.settled) {
      const slot = decoding.shift() as (typeof decoding)[number];
      if (slot.error !== undefined) throw slot.error;
      yield slot.event as GenerationEvent;
    }
  }

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
        else runs.push(startDecode(event.object));
      }
      // Most steps have no finished decoder run: no generator is made for them.
      if (decoding[0]?.settled) yield* settledObjects(false);
      const text = detokenizer.push(token);
      if (text) yield { type: "text", text };
      if (generated >= maxNewTokens) break;
      const next = await member.step(token, decodePositions(cacheLength, ropeDelta));
      if (!stepped) {
        stepped = true;
        decodeStart = next.startedAt;
      }
      out = next;
      cacheLength++;
    }
  } finally {
    // Finished, cancelled or failed: the others' next step no longer waits for this one.
    member.leave();
  }
  const tail = detokenizer.flush();
  if (tail) yield { type: "text", text: tail };
  for (const event of tracker.finish()) {
    if (event.type === "close") runs.push(startDecode(event.object));
  }
  yield* settledObjects(true);
  const decodeEnd = performance.now();
  timeline.decode.start = wall(decodeStart);
  timeline.decode.end = wall(decodeEnd);
  yield {
    type: "done",
    finishReason,
    tokenIds,
    usage: {
      promptTokens: ids.length,
      completionTokens: generated,
      prefillMs,
      // The decoder's time, when it blocked this thread; else the wait for its last runs.
      decodeMs: decodeEnd - decodeStart - (decoder.offThread ? waitedMs : decoderMs),
      decoderMs,
    },
    timeline,
  };
}
