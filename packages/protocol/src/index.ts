export { isPadtError, PadtError, PadtErrorCode } from "./errors.js";
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
} from "./generation.js";
