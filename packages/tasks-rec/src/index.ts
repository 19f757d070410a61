import {
  answerIssues,
  type DecodedObject,
  defineTask,
  objectsInOrder,
  pickReferredObject,
  type ReferringInput,
  referringInput,
  referringPrompt,
  type TaskResultParent,
} from "@padt/task-api";
import { recEvaluation } from "./evaluation.js";
import { formatRec } from "./format.js";

export const recInput = referringInput;
export type RecInput = ReferringInput;

export interface RecResult {
  expression: string;
  /** The referred object; null when the answer pointed at nothing. */
  object: DecodedObject | null;
}

export const recTask = defineTask<RecInput, RecResult>({
  name: "rec",
  description:
    "Referring expression comprehension: find the object a sentence describes and return its box.",
  input: recInput,
  requiresImage: true,
  buildPrompt: (input) => referringPrompt(input.expression),
  parse(answer, input) {
    const { partial, issues } = answerIssues(answer);
    const object = pickReferredObject(objectsInOrder(answer), issues);
    return {
      result: { expression: input.expression, object },
      partial: partial || !object,
      issues,
    };
  },
  format: formatRec,
  evaluation: recEvaluation,
  graphql: {
    inputField: "rec",
    inputType: "RecInput",
    resultType: "RecResult",
    typeDefs: /* GraphQL */ `
      input RecInput { expression: String! }
      extend input TaskInput { rec: RecInput }
      "The object a referring expression describes: read its box."
      type RecResult { expression: String!, ref: VisualRef, partial: Boolean!, issues: [String!]! }
      extend union TaskResult = RecResult
    `,
    resolvers: ({ visualRef }) => ({
      RecResult: {
        ref: (parent: TaskResultParent<RecResult>) =>
          parent.object ? visualRef(parent, parent.object.index) : null,
      },
    }),
  },
});

export default recTask;
