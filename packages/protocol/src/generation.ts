/**
 * The engine's public contract: chat turns in, an async iterable of typed events out.
 * Nothing here knows about GraphQL, tasks or databases.
 */
import type { RleMask } from "@padt/mask";

/** Pixels of the original image (after EXIF orientation). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A decoded object's mask: COCO compressed RLE of the original image size. */
export type { RleMask };

/** Content of a user turn, in the order the user wrote it. */
export type ContentPart =
  | { type: "text"; text: string }
  /** Encoded image bytes (PNG, JPEG or WebP); images are numbered in conversation order. */
  | { type: "image"; data: Uint8Array }
  /** Patches of an earlier image (by its index in the conversation), fed as their prototypes. */
  | { type: "visual-ref"; image: number; patches: readonly number[] };

export interface ChatTurn {
  role: "system" | "user" | "assistant";
  content: readonly ContentPart[];
}

/**
 * Decoding follows transformers' generate (generation/decoding.ts): what a request leaves out
 * is the bundle's, i.e. the checkpoint's generation_config.json.
 */
export interface GenerateOptions {
  /** Default 1024, as the reference. */
  maxNewTokens?: number;
  /** Sample instead of greedy; default: true when `temperature` > 0 is given, else false. */
  doSample?: boolean;
  /** Sampling only; default the bundle's. 0 (without doSample): greedy. */
  temperature?: number;
  /** Sampling only; 0 turns it off; default the bundle's (50 when the checkpoint sets none). */
  topK?: number;
  /** Sampling only, (0, 1]; default the bundle's. */
  topP?: number;
  /** Greedy or sampled, over every id already in the sequence (prompt, VRTs); 1: off. */
  repetitionPenalty?: number;
  seed?: number;
  /**
   * When the conversation and maxNewTokens do not fit the context, leave out the oldest turns
   * (from a user turn on, with their images and the references to those images) instead of
   * failing with PROMPT_TOO_LONG; a `trimmed` event then comes first. Default false.
   */
  trimHistory?: boolean;
  signal?: AbortSignal;
}

/** A run of visual reference tokens: one object the model pointed at. */
export interface VisualObject {
  /** Order within the answer. */
  index: number;
  /** The most recent double-quoted text before the run; empty when there is none. */
  label: string;
  /** Index of the image in the conversation. */
  image: number;
  /** Patch indices in the image's 28-px grid, row-major, in the order generated. */
  patches: number[];
}

export interface DecodedObject extends VisualObject {
  box: Box;
  mask: RleMask;
  /** sigmoid of the decoder's score logit. */
  score: number;
}

export type FinishReason = "stop" | "length" | "cancelled";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  prefillMs: number;
  decodeMs: number;
  decoderMs: number;
}

/** A stretch of wall-clock time, ms since the Unix epoch (comparable across threads). */
export interface Interval {
  start: number;
  end: number;
}

/**
 * When each stage of a generation ran, for traces: measured where it ran (a worker thread, and
 * later another process) and turned into spans by the caller, so the engine needs no tracing SDK.
 */
export interface GenerationTimeline {
  prefill: Interval;
  /** From the first decode step to the last; the decoder calls below fall inside it. */
  decode: Interval;
  /** Each PaDT decoder call, with the index of the object it decoded. */
  decoder: (Interval & { object: number })[];
}

/**
 * What the prompt left out: the oldest turns `trimHistory` could not fit, or, for a model that
 * answers one question per image (manifest `capabilities.multi_turn` false), every turn before
 * the last question (conversation images keep their numbering).
 */
export interface HistoryTrim {
  droppedTurns: number;
  droppedImages: number;
  /** Visual references in kept turns that pointed at a dropped image. */
  droppedRefs: number;
}

export type GenerationEvent =
  /** First, and only when turns were left out (`trimHistory`, or a single-turn model). */
  | ({ type: "trimmed" } & HistoryTrim)
  | { type: "text"; text: string }
  /**
   * One visual reference token; the first of an object opens it and carries the object's
   * label (the engine's quote rule, fixed from then on); later tokens of the object omit it.
   */
  | { type: "vrt"; object: number; image: number; patch: number; label?: string }
  /** An object's run closed and the decoder has run on it. */
  | { type: "object"; object: DecodedObject }
  /** `tokenIds`: every generated id (VRT ids >= the text vocabulary), the stop id excluded. */
  | {
      type: "done";
      finishReason: FinishReason;
      usage: Usage;
      tokenIds: number[];
      /** Set by engines that measure their stages (the PaDT engine does). */
      timeline?: GenerationTimeline;
    };

/** The answer in order: text interleaved with the objects it points at. */
export type AnswerSegment = { type: "text"; text: string } | { type: "object"; object: number };

export interface GenerationResult {
  /** The answer's text without its visual reference tokens. */
  text: string;
  segments: AnswerSegment[];
  objects: DecodedObject[];
  finishReason: FinishReason;
  usage: Usage;
  tokenIds: number[];
}
