// The event and result types are the engine's contract with plugins and clients, so they live
// in @padt/protocol (no runtime dependency); engine modules keep importing them from here.
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
} from "@padt/protocol";
