import { answerOf, describeTaskPlugin, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { type ResResult, resTask } from "../src/index.js";

const mask = { height: 4, width: 4, counts: "04L0", area: 4 };

describeTaskPlugin(resTask, {
  valid: [{ expression: "the blue star" }],
  invalid: [{ expression: "" }, { text: "the blue star" }],
  answer: [
    'The "the blue star" refers to ',
    testObject("the blue star", { mask }),
    " in this image.",
  ],
  expectResult(result) {
    const r = result as ResResult;
    expect(r.segment).toMatchObject({ mask, area: 4, object: 0 });
  },
});

describe("res", () => {
  it("uses the REC prompt", () => {
    expect(resTask.buildPrompt({ expression: "a cat" })).toBe(
      'Please carefully check the image and detect the object this sentence describes: "a cat".',
    );
  });

  it("returns no segment, flagged partial, when the answer points at nothing", () => {
    const outcome = resTask.parse(answerOf(['The "a cat" refers to  in this image.']), {
      expression: "a cat",
    });
    expect(outcome.result.segment).toBeNull();
    expect(outcome.partial).toBe(true);
  });
});
