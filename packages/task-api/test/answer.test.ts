import type { AnswerSegment, FinishReason, GenerationResult } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { answerIssues, templateIssues } from "../src/index.js";

// (@padt/testkit's answerOf depends on this package; the checks read segments only.)
const O = { object: true } as const;
function answerOf(pieces: (string | typeof O)[], finishReason: FinishReason = "stop") {
  let n = 0;
  const segments: AnswerSegment[] = pieces.map((p) =>
    typeof p === "string" ? { type: "text", text: p } : { type: "object", object: n++ },
  );
  const text = pieces.filter((p) => typeof p === "string").join("");
  return { text, segments, objects: [], finishReason } as unknown as GenerationResult;
}

describe("answerIssues", () => {
  it("flags a garbled answer (the issue's example) as partial, with what breaks the template", () => {
    const garbled = answerOf(['The "the green are ), 1 "circle" (', ")", O, "..."]);
    const { partial, issues } = answerIssues(garbled);
    expect(partial).toBe(true);
    expect(issues).toEqual([
      "the answer does not follow the template: a quote is unclosed",
      "the answer does not follow the template: its parentheses do not pair up",
      "the answer does not follow the template: parentheses hold no object",
    ]);
  });

  it("passes every answer template clean", () => {
    for (const pieces of [
      ['The "the red circle" refers to ', O, " in this image."],
      ['There are 2 "circle" (', O, ", ", O, ") in this image."],
      ['In this image, there are 1 "star" (', O, '), 1 "cross" (', O, ")."],
      ["A small red star (", O, ") and two crosses (", O, ", ", O, ")."],
      ["There is no object in this image."],
    ]) {
      expect(answerIssues(answerOf(pieces))).toEqual({ partial: false, issues: [] });
    }
  });

  it("reports a cut-off answer once, not its open parenthesis too", () => {
    const cut = answerOf(['There are 2 "circle" (', O, ", "], "length");
    expect(answerIssues(cut)).toEqual({
      partial: true,
      issues: ["the answer was cut off at the token limit"],
    });
    expect(templateIssues(cut.segments)).toContain(
      "the answer does not follow the template: its parentheses do not pair up",
    );
  });
});
