/**
 * Counting, the example of adding a task: "how many red circles?" asked with the OVD prompt
 * the models were trained on (one category), answered with the number of objects the model
 * pointed at under that label, and the objects themselves.
 */
import {
  answerIssues,
  type Box,
  defineTask,
  objectsInOrder,
  pythonJsonStringList,
  type TaskResultParent,
} from "@padt/task-api";
import { z } from "zod";
import { countEvaluation } from "./evaluation.js";
import { formatCount } from "./format.js";

export const countInput = z.object({
  /** The thing to count, e.g. "red circle". */
  object: z.string().trim().min(1, "object is empty").max(100),
});
export type CountInput = z.infer<typeof countInput>;

export interface CountedObject {
  /** The object's index in the answer (its visual reference). */
  index: number;
  box: Box;
  score: number;
}

export interface CountResult {
  object: string;
  count: number;
  objects: CountedObject[];
}

const normalise = (label: string) => label.trim().toLowerCase();

/** The numbers the answer states for a label (`There are 2 "red circle" (...)`). */
function statedCounts(text: string, label: string): number[] {
  const stated: number[] = [];
  for (const m of text.matchAll(/(\d+)\s+"([^"]*)"/g)) {
    if (normalise(m[2]!) === label) stated.push(Number(m[1]));
  }
  return stated;
}

export const countTask = defineTask<CountInput, CountResult>({
  name: "count",
  description: "Counting: how many objects of one kind the image shows, and which ones.",
  input: countInput,
  requiresImage: true,
  buildPrompt: (input) =>
    `Please carefully check the image and detect the following objects: ${pythonJsonStringList([input.object])}.`,
  parse(answer, input) {
    const { partial, issues } = answerIssues(answer);
    const wanted = normalise(input.object);
    const objects: CountedObject[] = [];
    const other = new Set<string>();
    for (const o of objectsInOrder(answer)) {
      if (normalise(o.label) === wanted)
        objects.push({ index: o.index, box: o.box, score: o.score });
      else other.add(o.label);
    }
    if (other.size > 0) {
      issues.push(
        `not counted: objects labelled ${[...other].map((l) => JSON.stringify(l)).join(", ")}`,
      );
    }
    const stated = statedCounts(answer.text, wanted);
    if (stated.length > 0 && stated.reduce((s, n) => s + n, 0) !== objects.length) {
      issues.push(
        `the answer says ${stated.join(" + ")} but points at ${objects.length}; the objects are counted`,
      );
    }
    return { result: { object: input.object, count: objects.length, objects }, partial, issues };
  },
  format: formatCount,
  evaluation: countEvaluation,
  graphql: {
    inputField: "count",
    inputType: "CountInput",
    resultType: "CountResult",
    typeDefs: /* GraphQL */ `
      input CountInput { object: String! }
      extend input TaskInput { count: CountInput }
      "How many objects of one kind the image shows; refs are the counted objects."
      type CountResult { object: String!, count: Int!, refs: [VisualRef!]!, partial: Boolean!, issues: [String!]! }
      extend union TaskResult = CountResult
    `,
    resolvers: ({ visualRef }) => ({
      CountResult: {
        refs: (parent: TaskResultParent<CountResult>) =>
          parent.objects.map((o) => visualRef(parent, o.index)),
      },
    }),
  },
});

export default countTask;
