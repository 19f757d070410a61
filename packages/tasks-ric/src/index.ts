import { answerIssues, defineTask, type TaskResultParent } from "@padt/task-api";
import { z } from "zod";
import { type GroundedPhrase, readCaption } from "./caption.js";
import { ricEvaluation } from "./evaluation.js";
import { formatRic } from "./format.js";

export { type GroundedPhrase, readCaption } from "./caption.js";
export { nounPhraseStart } from "./noun_phrase.js";

export const RIC_PROMPT = "Please describe this image.";

export const ricInput = z.object({
  /** The instruction; the models were trained on the default. */
  prompt: z.string().trim().min(1, "prompt is empty").max(500).default(RIC_PROMPT),
});
export type RicInput = z.infer<typeof ricInput>;

export interface RicResult {
  caption: string;
  phrases: GroundedPhrase[];
}

export const ricTask = defineTask<RicInput, RicResult>({
  name: "ric",
  description:
    "Referring image captioning: describe the image, with each mentioned object grounded.",
  input: ricInput,
  requiresImage: true,
  buildPrompt: (input) => input.prompt,
  parse(answer) {
    const { partial, issues } = answerIssues(answer);
    const { caption, phrases } = readCaption(answer.segments);
    for (const p of phrases)
      if (!p.text) issues.push(`objects ${p.objects.join(", ")} follow no phrase`);
    return { result: { caption, phrases }, partial, issues };
  },
  format: formatRic,
  evaluation: ricEvaluation,
  graphql: {
    inputField: "ric",
    inputType: "RicInput",
    resultType: "RicResult",
    typeDefs: /* GraphQL */ `
      input RicInput { prompt: String }
      extend input TaskInput { ric: RicInput }
      "A span of the caption (UTF-16 offsets, end exclusive) and the objects it names."
      type GroundedPhrase { text: String!, start: Int!, end: Int!, refs: [VisualRef!]! }
      type RicResult { caption: String!, phrases: [GroundedPhrase!]!, partial: Boolean!, issues: [String!]! }
      extend union TaskResult = RicResult
    `,
    resolvers: ({ visualRef }) => ({
      RicResult: {
        phrases: (parent: TaskResultParent<RicResult>) =>
          parent.phrases.map((p) => ({ ...p, messageId: parent.messageId })),
      },
      GroundedPhrase: {
        refs: (phrase: GroundedPhrase & { messageId: string }) =>
          phrase.objects.map((index) => visualRef(phrase, index)),
      },
    }),
  },
});

export default ricTask;
