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
export { answerIssues, objectsInOrder } from "./answer.js";
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
  type ReferringInput,
  referringInput,
  referringPrompt,
} from "./referring.js";
export { TaskRegistry } from "./registry.js";
