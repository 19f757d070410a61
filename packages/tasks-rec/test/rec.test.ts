import { answerOf, describeTaskPlugin, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { type RecResult, recTask } from "../src/index.js";

describeTaskPlugin(recTask, {
  valid: [
    { expression: "the red circle" },
    { expression: "  the small star left of the blue square " },
  ],
  invalid: [
    {},
    { expression: "" },
    { expression: "   " },
    { expression: 3 },
    { expression: "x".repeat(501) },
  ],
  answer: ['The "the red circle" refers to ', testObject("the red circle"), " in this image."],
  expectResult(result) {
    const r = result as RecResult;
    expect(r.expression).toBe("the red circle");
    expect(r.object?.box).toEqual({ x: 10, y: 20, width: 30, height: 40 });
  },
});

describe("rec", () => {
  it("builds the exact prompt the models were trained on", () => {
    expect(recTask.buildPrompt({ expression: "The car is on the left side of the horse" })).toBe(
      'Please carefully check the image and detect the object this sentence describes: "The car is on the left side of the horse".',
    );
  });

  it("trims the expression before it reaches the prompt", () => {
    expect(recTask.input.parse({ expression: "  a dog " })).toEqual({ expression: "a dog" });
  });

  it("keeps the first of several objects and says so", () => {
    const outcome = recTask.parse(
      answerOf([
        'The "x" refers to ',
        testObject("x", { score: 0.7 }),
        testObject("x", { score: 0.2 }),
      ]),
      { expression: "x" },
    );
    expect(outcome.result.object?.score).toBe(0.7);
    expect(outcome.issues).toContain("the answer points at 2 objects; the first is used");
  });

  it("reports an answer without an object as partial with a null object", () => {
    const outcome = recTask.parse(answerOf(["I cannot find it."]), { expression: "x" });
    expect(outcome).toMatchObject({ partial: true, result: { object: null } });
  });
});
