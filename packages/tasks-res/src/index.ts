import {
  answerIssues,
  type Box,
  defineTask,
  objectsInOrder,
  pickReferredObject,
  type ReferringInput,
  type RleMask,
  referringInput,
  referringPrompt,
  type TaskResultParent,
} from "@padt/task-api";
import { resEvaluation } from "./evaluation.js";
import { formatRes } from "./format.js";

export type ResInput = ReferringInput;

export interface ResResult {
  expression: string;
  /** The referred object's mask (COCO RLE of the original image), with its box and score. */
  segment: { mask: RleMask; area: number; box: Box; score: number; object: number } | null;
}

export const resTask = defineTask<ResInput, ResResult>({
  name: "res",
  description: "Referring segmentation: find the object a sentence describes and return its mask.",
  input: referringInput,
  requiresImage: true,
  // RES shares REC's prompt: the same answer carries both the box and the mask.
  buildPrompt: (input) => referringPrompt(input.expression),
  parse(answer, input) {
    const { partial, issues } = answerIssues(answer);
    const object = pickReferredObject(objectsInOrder(answer), issues);
    const segment = object
      ? {
          mask: object.mask,
          area: object.mask.area,
          box: object.box,
          score: object.score,
          object: object.index,
        }
      : null;
    return {
      result: { expression: input.expression, segment },
      partial: partial || !segment,
      issues,
    };
  },
  format: formatRes,
  evaluation: resEvaluation,
  graphql: {
    inputField: "res",
    inputType: "ResInput",
    resultType: "ResResult",
    typeDefs: /* GraphQL */ `
      input ResInput { expression: String! }
      extend input TaskInput { res: ResInput }
      "The mask of the object a referring expression describes (the ref carries mask, box and score)."
      type ResResult { expression: String!, ref: VisualRef, area: Int, partial: Boolean!, issues: [String!]! }
      extend union TaskResult = ResResult
    `,
    resolvers: ({ visualRef }) => ({
      ResResult: {
        ref: (parent: TaskResultParent<ResResult>) =>
          parent.segment ? visualRef(parent, parent.segment.object) : null,
        area: (parent: TaskResultParent<ResResult>) => parent.segment?.area ?? null,
      },
    }),
  },
});

export default resTask;
