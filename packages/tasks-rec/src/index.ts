import {
  answerIssues,
  type DecodedObject,
  defineTask,
  objectsInOrder,
  type TaskResultParent,
} from "@padt/engine";
import { z } from "zod";

export const recInput = z.object({
  expression: z.string().trim().min(1, "expression is empty").max(500),
});
export type RecInput = z.infer<typeof recInput>;

export interface RecResult {
  expression: string;
  /** The referred object; null when the answer pointed at nothing. */
  object: DecodedObject | null;
}

/** The prompt REC and RES were trained on (PADT_MODEL.md section 4). */
export function referringPrompt(expression: string): string {
  return `Please carefully check the image and detect the object this sentence describes: "${expression}".`;
}

/** REC and RES answers name one object; more than one is reported and the first kept. */
export function pickReferredObject(
  objects: DecodedObject[],
  issues: string[],
): DecodedObject | null {
  if (objects.length === 0) issues.push("the answer points at no object");
  if (objects.length > 1)
    issues.push(`the answer points at ${objects.length} objects; the first is used`);
  return objects[0] ?? null;
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
