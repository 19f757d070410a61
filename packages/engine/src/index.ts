export type { ExecutionProvider, FallbackPolicy, SessionOptions } from "./backend/ort.js";
export { type BundleVerification, loadManifest, type PadtManifest } from "./bundle/index.js";
export type { EngineClient, InspectedImage, ModelInfo } from "./client.js";
export { type EngineOptions, PadtEngine } from "./engine/index.js";
export { isPadtError, PadtError, PadtErrorCode } from "./errors.js";
export { AnswerCollector, type CollectedObject, collectResult } from "./generation/collect.js";
export {
  type DecodingOptions,
  type DecodingSettings,
  type GenerationDefaults,
  resolveDecoding,
} from "./generation/decoding.js";
export type {
  AnswerSegment,
  Box,
  ChatTurn,
  ContentPart,
  DecodedObject,
  FinishReason,
  GenerateOptions,
  GenerationEvent,
  GenerationResult,
  HistoryTrim,
  RleMask,
  Usage,
  VisualObject,
} from "./generation/types.js";
export {
  decodeImage,
  readImageHeader,
  type SanitizedImage,
  sanitizeImage,
} from "./image/decode.js";
export { type ResampleFilter, resizeRgb } from "./image/resize.js";
export {
  DEFAULT_IMAGE_LIMITS,
  type DecodedImage,
  type ImageFormat,
  type ImageHeader,
  type ImageLimits,
  type RgbImage,
} from "./image/types.js";
export {
  type ImageProcessorConfig,
  modelInputSize,
  PreprocessCache,
  type PreprocessedImage,
  preprocessImage,
  QWEN2_5_VL_IMAGE_PROCESSOR,
  resolveImageProcessorConfig,
  type SmartResizeOptions,
  smartResize,
} from "./models/padt/image_processing.js";
export { type MropeConfig, mropeAxes, mropeTables } from "./models/padt/mrope.js";
export {
  decodePositions,
  type RopeIndex,
  type RopeIndexOptions,
  ropeIndex,
} from "./models/padt/positions.js";
export {
  blockDiagonalMask,
  FLOAT32_LOWEST,
  type ImageGrid,
  inversePermutation,
  mergedTokenCount,
  segmentIds,
  type VisionGeometry,
  type WindowLayout,
  windowLayout,
} from "./models/padt/vision_grid.js";
export {
  type RotaryTables,
  rasterMergePositions,
  toWindowOrder,
  visionRotaryTables,
  windowOrderPositions,
} from "./models/padt/vision_rotary.js";
export {
  type VrtRange,
  vrtBias,
  vrtLogitMask,
  vrtPatch,
  vrtRange,
} from "./models/padt/vrt_mask.js";
export {
  Channel,
  type JobContext,
  type JobHandler,
  type PoolStats,
  serveJobs,
  WorkerPool,
  type WorkerPoolOptions,
  workerInput,
} from "./runtime/index.js";
export {
  ChatTemplate,
  type EncodePromptOptions,
  encodeChatPrompt,
  type PromptEncoding,
  type TemplateMessage,
  type TemplatePart,
  templateMessages,
} from "./text/chat_template.js";
export { type DetokenizerOptions, StreamingDetokenizer } from "./text/detokenizer.js";
export {
  QWEN_VL_SPECIAL_TOKENS,
  type SpecialTokenIds,
  type SpecialTokenName,
  TextTokenizer,
  type TokenPiece,
} from "./text/tokenizer.js";
export { LruCache, type LruCacheOptions } from "./utils/lru.js";
