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
export { TaskRegistry } from "./registry.js";
