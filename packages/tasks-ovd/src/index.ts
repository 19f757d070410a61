import {
  answerIssues,
  type Box,
  defineTask,
  objectsInOrder,
  pythonJsonStringList,
  type RleMask,
  type TaskResultParent,
} from "@padt/task-api";
import { z } from "zod";
import { ovdEvaluation } from "./evaluation.js";
import { formatOvd } from "./format.js";

export const ovdInput = z.object({
  categories: z
    .array(z.string().trim().min(1, "a category name is empty").max(100))
    .min(1, "list at least one category")
    .max(200)
    .refine((names) => new Set(names.map((n) => n.toLowerCase())).size === names.length, {
      message: "category names repeat (case-insensitively)",
    }),
  /** Drop detections scoring below this; absent keeps all, as the reference evaluation does. */
  scoreThreshold: z.number().min(0).max(1).optional(),
});
export type OvdInput = z.infer<typeof ovdInput>;

export interface Detection {
  /** The requested category name, as the request spelled it. */
  label: string;
  box: Box;
  mask: RleMask;
  score: number;
  patches: number[];
  object: number;
}

export interface OvdResult {
  detections: Detection[];
  /** Labels the model produced that match no requested category (dropped). */
  unknownLabels: string[];
}

export const ovdTask = defineTask<OvdInput, OvdResult>({
  name: "ovd",
  description: "Open-vocabulary detection: find every object of the listed categories.",
  input: ovdInput,
  requiresImage: true,
  buildPrompt: (input) =>
    `Please carefully check the image and detect the following objects: ${pythonJsonStringList(input.categories)}.`,
  parse(answer, input) {
    const { partial, issues } = answerIssues(answer);
    const byName = new Map(input.categories.map((name) => [name.trim().toLowerCase(), name]));
    const unknown = new Set<string>();
    const detections: Detection[] = [];
    for (const object of objectsInOrder(answer)) {
      const label = byName.get(object.label.trim().toLowerCase());
      if (label === undefined) {
        unknown.add(object.label);
        continue;
      }
      if (input.scoreThreshold !== undefined && object.score < input.scoreThreshold) continue;
      detections.push({
        label,
        box: object.box,
        mask: object.mask,
        score: object.score,
        patches: object.patches,
        object: object.index,
      });
    }
    const unknownLabels = [...unknown];
    if (unknownLabels.length > 0) {
      issues.push(
        `dropped objects with labels not asked for: ${unknownLabels.map((l) => JSON.stringify(l)).join(", ")}`,
      );
    }
    return { result: { detections, unknownLabels }, partial, issues };
  },
  format: formatOvd,
  evaluation: ovdEvaluation,
  graphql: {
    inputField: "ovd",
    inputType: "OvdInput",
    resultType: "OvdResult",
    typeDefs: /* GraphQL */ `
      input OvdInput { categories: [String!]!, scoreThreshold: Float }
      extend input TaskInput { ovd: OvdInput }
      type Detection { label: String!, score: Float!, ref: VisualRef! }
      "Every object of the requested categories; one detection per object, no NMS (as the paper)."
      type OvdResult { detections: [Detection!]!, unknownLabels: [String!]!, partial: Boolean!, issues: [String!]! }
      extend union TaskResult = OvdResult
    `,
    resolvers: ({ visualRef }) => ({
      OvdResult: {
        // Detections carry the message id down so their own resolver can find the ref.
        detections: (parent: TaskResultParent<OvdResult>) =>
          parent.detections.map((d) => ({ ...d, messageId: parent.messageId })),
      },
      Detection: {
        ref: (detection: Detection & { messageId: string }) =>
          visualRef(detection, detection.object),
      },
    }),
  },
});

export default ovdTask;
