import { answerOf, describeTaskPlugin, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { nounPhraseStart, type RicResult, readCaption, ricTask } from "../src/index.js";

describeTaskPlugin(ricTask, {
  valid: [{}, { prompt: "Describe the shapes." }],
  invalid: [{ prompt: "" }, { prompt: 5 }],
  answer: ["A man (", testObject(""), ") rides a motorcycle (", testObject(""), ")."],
  expectResult(result) {
    const r = result as RicResult;
    expect(r.caption).toBe("A man rides a motorcycle.");
    expect(r.phrases.map((p) => [p.text, p.objects])).toEqual([
      ["A man", [0]],
      ["a motorcycle", [1]],
    ]);
  },
});

describe("ric", () => {
  it("defaults to the trained prompt", () => {
    expect(ricTask.buildPrompt(ricTask.input.parse({}))).toBe("Please describe this image.");
  });

  it("gives spans that index the caption", () => {
    const answer = answerOf([
      "Two dogs (",
      testObject(""),
      ", ",
      testObject(""),
      ") play near the small red circle left of a blue star (",
      testObject(""),
      ").",
    ]);
    const { caption, phrases } = readCaption(answer.segments);
    expect(caption).toBe("Two dogs play near the small red circle left of a blue star.");
    expect(phrases.map((p) => [p.text, p.objects])).toEqual([
      ["Two dogs", [0, 1]],
      ["a blue star", [2]],
    ]);
    for (const p of phrases) expect(caption.slice(p.start, p.end)).toBe(p.text);
  });

  it("finds the noun phrase without a determiner after a preposition", () => {
    const text = "Cars parked near trees";
    expect(text.slice(nounPhraseStart(text))).toBe("trees");
  });

  it("handles a reference with no phrase before it", () => {
    const outcome = ricTask.parse(answerOf([testObject(""), " is red."]), { prompt: "x" });
    expect(outcome.result.phrases).toHaveLength(1);
    expect(outcome.issues.join(" ")).toMatch(/follow no phrase/);
  });
});
