import { ErrorCode, isPadtError } from "@padt/protocol";
import { type TaskPlugin, TaskRegistry } from "@padt/task-api";
import { parse as parseGraphQL } from "graphql";
import { describe, expect, it } from "vitest";
import { answerOf, testObject } from "./answers.js";

export interface ConformanceCases<Input> {
  /** Inputs the plugin must accept (raw, before validation). */
  valid: unknown[];
  /** Inputs it must refuse with TASK_INPUT_INVALID. */
  invalid: unknown[];
  /** A well-formed answer for the first valid input, in the task's template. */
  answer: Parameters<typeof answerOf>[0];
  /** Checks on the parsed result of `answer`. */
  expectResult(result: unknown, input: Input): void;
}

/**
 * The suite every task plugin runs (shipped or third-party): registration, input
 * validation, prompts, GraphQL slice, and parsers that never throw on odd answers.
 */
export function describeTaskPlugin<Input, Result>(
  plugin: TaskPlugin<Input, Result>,
  cases: ConformanceCases<Input>,
): void {
  describe(`task plugin conformance: ${plugin.name}`, () => {
    const registry = new TaskRegistry([plugin]);

    it("registers, and is found by name", () => {
      expect(registry.get(plugin.name)).toBe(plugin);
    });

    it("accepts valid input and builds a non-empty prompt", () => {
      for (const raw of cases.valid) {
        const { input } = registry.parseInput(plugin.name, raw);
        expect(plugin.buildPrompt(input as Input).trim().length).toBeGreaterThan(0);
      }
    });

    it("refuses invalid input with TASK_INPUT_INVALID and a message naming the problem", () => {
      for (const raw of cases.invalid) {
        let error: unknown;
        try {
          registry.parseInput(plugin.name, raw);
        } catch (e) {
          error = e;
        }
        expect(
          isPadtError(error, ErrorCode.TASK_INPUT_INVALID),
          `input ${JSON.stringify(raw)}`,
        ).toBe(true);
        expect((error as Error).message).toContain(plugin.name);
      }
    });

    it("declares a GraphQL slice that parses and extends TaskInput and TaskResult", () => {
      const doc = parseGraphQL(plugin.graphql.typeDefs);
      const text = plugin.graphql.typeDefs;
      expect(doc.definitions.length).toBeGreaterThan(0);
      expect(text).toMatch(
        new RegExp(
          `extend input TaskInput \\{\\s*${plugin.graphql.inputField}: ${plugin.graphql.inputType}\\s*\\}`,
        ),
      );
      expect(text).toMatch(new RegExp(`extend union TaskResult = ${plugin.graphql.resultType}`));
    });

    it("parses a well-formed answer", () => {
      const input = registry.parseInput(plugin.name, cases.valid[0]).input as Input;
      const outcome = plugin.parse(answerOf(cases.answer), input);
      expect(outcome.partial).toBe(false);
      cases.expectResult(outcome.result, input);
    });

    it("never throws on odd answers, and flags cut-off ones as partial", () => {
      const input = registry.parseInput(plugin.name, cases.valid[0]).input as Input;
      const odd = [
        answerOf([]),
        answerOf([""]),
        answerOf(['The "unclosed quote refers to ', testObject(""), " in"]),
        answerOf([testObject(""), testObject("")]),
        answerOf(["(", testObject("nothing asked"), ", ", testObject(""), ")"]),
      ];
      for (const answer of odd) expect(() => plugin.parse(answer, input)).not.toThrow();
      const cut = plugin.parse(answerOf(cases.answer.slice(0, -1), "length"), input);
      expect(cut.partial).toBe(true);
      expect(cut.issues.join(" ")).toMatch(/cut off/);
    });

    it("flags a garbled answer (one no template allows) as partial, saying why", () => {
      const input = registry.parseInput(plugin.name, cases.valid[0]).input as Input;
      const garbled = answerOf(['The "the green are ), 1 "circle" (', ")", testObject("circle")]);
      const outcome = plugin.parse(garbled, input);
      expect(outcome.partial).toBe(true);
      expect(outcome.issues.join(" ")).toMatch(/does not follow the template/);
    });

    it.runIf(plugin.format !== undefined)("formats a result as lines for `padt run`", () => {
      const input = registry.parseInput(plugin.name, cases.valid[0]).input as Input;
      const answer = answerOf(cases.answer);
      const lines = plugin.format!(plugin.parse(answer, input).result, answer);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(typeof line).toBe("string");
    });
  });
}
