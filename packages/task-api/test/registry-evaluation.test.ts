/** The registry checks a plugin's optional `format` and evaluation adapter when it registers. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTask, type TaskEvaluation, TaskRegistry } from "../src/index.js";

const evaluation: TaskEvaluation<{ n: number }> = {
  metric: "custom",
  maxNewTokens: 16,
  queries: () => [],
  sample: (query, outcome) => ({
    metric: "custom",
    id: String(query.imageId),
    data: outcome ? outcome.result.n : null,
  }),
  score: (samples) => ({ values: { n: samples.length }, summary: [["n", `${samples.length}`]] }),
};

const plugin = (extra: object) =>
  defineTask({
    name: "num",
    description: "a number",
    input: z.object({}),
    buildPrompt: () => "how many?",
    parse: () => ({ result: { n: 1 }, partial: false, issues: [] }),
    format: (r) => [`${r.n}`],
    evaluation,
    graphql: {
      typeDefs: "input NumInput { x: Int } type NumResult { n: Int! }",
      inputField: "num",
      inputType: "NumInput",
      resultType: "NumResult",
    },
    ...extra,
  });

describe("TaskRegistry and the optional CLI parts", () => {
  it("registers a plugin with format and an evaluation adapter", () => {
    const registered = new TaskRegistry([plugin({})]).get("num");
    expect(registered.format?.({ n: 3 }, undefined as never)).toEqual(["3"]);
    expect(registered.evaluation?.metric).toBe("custom");
  });

  it("refuses a broken format or adapter at registration, naming the field", () => {
    const cases: [object, RegExp][] = [
      [{ format: "3" }, /format must be a function/],
      [{ evaluation: { ...evaluation, metric: "bleu" } }, /evaluation\.metric must be one of/],
      [{ evaluation: { ...evaluation, maxNewTokens: 0 } }, /maxNewTokens must be a positive/],
      [{ evaluation: { ...evaluation, sample: undefined } }, /queries and evaluation\.sample/],
      [{ evaluation: { ...evaluation, score: undefined } }, /evaluation\.score must be a function/],
    ];
    for (const [extra, message] of cases)
      expect(() => new TaskRegistry([plugin(extra)])).toThrow(message);
  });
});
