import type { GenerationResult } from "@padt/protocol";
import type { z } from "zod";
import type { TaskEvaluation } from "./evaluation.js";

/** What a plugin makes of an answer: never an exception, at worst a flagged partial result. */
export interface TaskOutcome<Result> {
  result: Result;
  /** True when the answer was cut off or did not follow the task's template. */
  partial: boolean;
  /** Human-readable notes on what was dropped or guessed, e.g. labels not asked for. */
  issues: string[];
}

/**
 * What the gateway hands a result type's resolvers: the plugin's result, flattened, with the
 * outcome flags and the id of the message that holds it.
 */
export type TaskResultParent<Result> = Result & {
  partial: boolean;
  issues: string[];
  messageId: string;
};

/** Gateway services that a plugin's resolvers may use (the engine knows no GraphQL). */
export interface TaskResolverHelpers {
  /** The message's `VisualRef` for the answer's object with this index (null when absent). */
  visualRef(parent: { messageId: string }, index: number): unknown;
}

type FieldResolver = (parent: never, args: never, context: never) => unknown;

/**
 * The plugin's slice of the GraphQL schema. The gateway merges `typeDefs`, which must
 * declare `inputType` and `resultType`, add `<inputField>: <inputType>` to `TaskInput`
 * and `resultType` to the `TaskResult` union. Fields not named in `resolvers` read the
 * parent's property of the same name.
 */
export interface TaskGraphQL {
  typeDefs: string;
  inputField: string;
  inputType: string;
  resultType: string;
  resolvers?: (helpers: TaskResolverHelpers) => Record<string, Record<string, FieldResolver>>;
}

export interface TaskPlugin<Input = unknown, Result = unknown> {
  /** Lower-case identifier, used in GraphQL, the CLI and the database. */
  readonly name: string;
  readonly description: string;
  /** Validates and normalises raw input (a zod schema, so messages are clear). */
  readonly input: z.ZodType<Input>;
  /**
   * The prompt asks about an image (every PaDT task does): the gateway refuses the task with
   * IMAGE_REQUIRED, before writing anything, unless the message or an earlier one of its
   * session carries an image. Default false (a text-only task).
   */
  readonly requiresImage?: boolean;
  /** The user text of the prompt; the image comes with the message. */
  buildPrompt(input: Input): string;
  parse(answer: GenerationResult, input: Input): TaskOutcome<Result>;
  readonly graphql: TaskGraphQL;
  /**
   * `padt run`'s readable lines for a result (the answer gives the objects' boxes); without
   * it the CLI prints the result's plain fields and boxed items.
   */
  format?(result: Result, answer: GenerationResult): string[];
  /** How `padt eval` asks this task over an annotation file and scores it; absent: no eval. */
  readonly evaluation?: TaskEvaluation<Result>;
}

/** Identity with inference: lets a plugin file state its types once. */
export function defineTask<Input, Result>(
  plugin: TaskPlugin<Input, Result>,
): TaskPlugin<Input, Result> {
  return plugin;
}
