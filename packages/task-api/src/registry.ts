import { ErrorCode, PadtError } from "@padt/protocol";
import type { EvalMetric } from "./evaluation.js";
import type { TaskPlugin } from "./plugin.js";

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
/** The metric families @padt/eval scores (EvalSample's kinds). */
const EVAL_METRICS: readonly EvalMetric[] = ["box", "mask", "detection", "caption", "custom"];

// biome-ignore lint/suspicious/noExplicitAny: a registry holds plugins of any input and result type.
type AnyPlugin = TaskPlugin<any, any>;

/** Checks a plugin's metadata when it is registered, so a broken plugin fails at start-up. */
function checkPlugin(plugin: AnyPlugin): void {
  const where = `task plugin "${plugin.name}"`;
  if (!NAME.test(plugin.name)) throw new Error(`${where}: name must match ${NAME}`);
  if (!plugin.description.trim()) throw new Error(`${where}: description is empty`);
  for (const key of ["inputField", "inputType", "resultType"] as const) {
    const value = plugin.graphql[key];
    if (!GRAPHQL_NAME.test(value))
      throw new Error(`${where}: graphql.${key} "${value}" is not a GraphQL name`);
  }
  for (const type of [plugin.graphql.inputType, plugin.graphql.resultType]) {
    if (!new RegExp(`\\b(input|type)\\s+${type}\\b`).test(plugin.graphql.typeDefs)) {
      throw new Error(`${where}: typeDefs do not declare ${type}`);
    }
  }
  if (plugin.requiresImage !== undefined && typeof plugin.requiresImage !== "boolean") {
    throw new Error(`${where}: requiresImage must be a boolean`);
  }
  if (typeof plugin.buildPrompt !== "function" || typeof plugin.parse !== "function") {
    throw new Error(`${where}: buildPrompt and parse must be functions`);
  }
  if (plugin.format !== undefined && typeof plugin.format !== "function") {
    throw new Error(`${where}: format must be a function`);
  }
  const evaluation = plugin.evaluation;
  if (evaluation !== undefined) {
    if (!EVAL_METRICS.includes(evaluation.metric))
      throw new Error(`${where}: evaluation.metric must be one of ${EVAL_METRICS.join(", ")}`);
    if (!Number.isInteger(evaluation.maxNewTokens) || evaluation.maxNewTokens <= 0)
      throw new Error(`${where}: evaluation.maxNewTokens must be a positive integer`);
    if (typeof evaluation.queries !== "function" || typeof evaluation.sample !== "function")
      throw new Error(`${where}: evaluation.queries and evaluation.sample must be functions`);
    if (evaluation.metric === "custom" && typeof evaluation.score !== "function")
      throw new Error(`${where}: evaluation.score must be a function for the "custom" metric`);
  }
}

export class TaskRegistry {
  readonly #plugins = new Map<string, AnyPlugin>();

  constructor(plugins: Iterable<AnyPlugin> = []) {
    for (const plugin of plugins) this.register(plugin);
  }

  register(plugin: AnyPlugin): this {
    checkPlugin(plugin);
    if (this.#plugins.has(plugin.name))
      throw new Error(`task plugin "${plugin.name}" is registered twice`);
    for (const other of this.#plugins.values()) {
      if (other.graphql.inputField === plugin.graphql.inputField) {
        throw new Error(
          `task plugins "${other.name}" and "${plugin.name}" share the input field "${plugin.graphql.inputField}"`,
        );
      }
    }
    this.#plugins.set(plugin.name, plugin);
    return this;
  }

  list(): AnyPlugin[] {
    return [...this.#plugins.values()];
  }

  get(name: string): AnyPlugin {
    const plugin = this.#plugins.get(name);
    if (!plugin) {
      throw new PadtError(ErrorCode.TASK_UNKNOWN, `Unknown task "${name}"`, {
        known: [...this.#plugins.keys()],
      });
    }
    return plugin;
  }

  /** Validates raw input for a task, with every problem in the message. */
  parseInput(name: string, raw: unknown): { plugin: AnyPlugin; input: unknown } {
    const plugin = this.get(name);
    const parsed = plugin.input.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join(".") || "input"}: ${i.message}`,
      );
      throw new PadtError(
        ErrorCode.TASK_INPUT_INVALID,
        `Invalid input for task "${name}": ${problems.join("; ")}`,
        { problems },
      );
    }
    return { plugin, input: parsed.data };
  }
}
