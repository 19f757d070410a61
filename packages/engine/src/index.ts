// The engine's contract: load a bundle, inspect images, generate; the types those calls take,
// give and throw; the one answer collector; and the two checks the gateway runs before it
// writes anything (generation options, image headers). Internals (preprocessing, tokenizer,
// rotary tables, worker pool) are imported by tests from src/ directly.

// What generate() takes, gives and throws is declared in @padt/protocol.
export {
  type AnswerSegment,
  type Box,
  type ChatTurn,
  type ContentPart,
  type DecodedObject,
  ErrorCode,
  type FinishReason,
  type GenerateOptions,
  type GenerationEvent,
  type GenerationResult,
  type GenerationTimeline,
  type HistoryTrim,
  isPadtError,
  PadtError,
  type RleMask,
  type Usage,
  type VisualObject,
} from "@padt/protocol";
export type { ExecutionProvider, FallbackPolicy, SessionOptions } from "./backend/ort.js";
export type { BundleVerification } from "./bundle/index.js";
export type { EngineClient, InspectedImage, ModelInfo } from "./client.js";
export {
  type EngineOptions,
  type InspectorOptions,
  ModelInspector,
  PadtEngine,
} from "./engine/index.js";
export { AnswerCollector, type CollectedObject, collectResult } from "./generation/collect.js";
export {
  type DecodingOptions,
  type DecodingSettings,
  type GenerationDefaults,
  resolveDecoding,
} from "./generation/decoding.js";
export { readImageHeader, type SanitizedImage } from "./image/decode.js";
export type { ImageFormat, ImageHeader, ImageLimits } from "./image/types.js";
export type { PoolStats } from "./runtime/index.js";
