export {
  ERROR_CATALOGUE,
  ErrorCode,
  type ErrorLayer,
  type ErrorSpec,
  isErrorCode,
} from "./error_codes.js";
export { isPadtError, PadtError } from "./errors.js";
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
  GenerationTimeline,
  HistoryTrim,
  Interval,
  RleMask,
  Usage,
  VisualObject,
} from "./generation.js";
