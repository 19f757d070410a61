export type {
  AnswerSegment,
  Box,
  DecodedObject,
  FinishReason,
  GenerationResult,
  RleMask,
  Usage,
  VisualObject,
} from "@padt/protocol";
export { answerIssues, objectsInOrder, templateIssues } from "./answer.js";
export {
  annotationById,
  type BoxSample,
  boxFromXywh,
  type CaptionSample,
  type CustomMetrics,
  type CustomSample,
  type DetectionSample,
  datasetList,
  type EvalAnnotation,
  type EvalDataset,
  type EvalMetric,
  type EvalQuery,
  type EvalQueryOptions,
  type EvalSample,
  type EvalSegmentation,
  type MaskSample,
  type TaskEvaluation,
} from "./evaluation.js";
export { formatBox, formatScore } from "./format.js";
export {
  defineTask,
  type TaskGraphQL,
  type TaskOutcome,
  type TaskPlugin,
  type TaskResolverHelpers,
  type TaskResultParent,
} from "./plugin.js";
export { pythonJsonStringList } from "./python_json.js";
export {
  pickReferredObject,
  type ReferringEntry,
  type ReferringInput,
  referringInput,
  referringPrompt,
  referringQueries,
  referringSampleId,
  referringSubsets,
} from "./referring.js";
export { TaskRegistry } from "./registry.js";
