import { answerOf, describeTaskPlugin, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { type CountResult, countTask } from "../src/index.js";

describeTaskPlugin(countTask, {
  valid: [{ object: "red circle" }, { object: "  star " }],
  invalid: [{}, { object: "" }, { object: "   " }, { object: 2 }, { object: "x".repeat(101) }],
  answer: [
    'There are 2 "red circle" (',
    testObject("red circle", { score: 0.8 }),
    ", ",
    testObject("red circle", { score: 0.6 }),
    ") in this image.",
  ],
  expectResult(result) {
    const r = result as CountResult;
    expect(r.object).toBe("red circle");
    expect(r.count).toBe(2);
    expect(r.objects.map((o) => [o.index, o.score])).toEqual([
      [0, 0.8],
      [1, 0.6],
    ]);
    expect(r.objects[0]?.box).toEqual({ x: 10, y: 20, width: 30, height: 40 });
  },
});

describe("count", () => {
  it("asks with the OVD prompt the models were trained on, one category", () => {
    expect(countTask.buildPrompt(countTask.input.parse({ object: " red circle " }))).toBe(
      'Please carefully check the image and detect the following objects: ["red circle"].',
    );
  });

  it("counts zero on the template's no-object answer, without flagging it", () => {
    const outcome = countTask.parse(
      answerOf(["No objects from the list are present in the image"]),
      { object: "star" },
    );
    expect(outcome).toEqual({
      result: { object: "star", count: 0, objects: [] },
      partial: false,
      issues: [],
    });
  });

  it("counts only objects with the asked label (case-insensitive) and names the others", () => {
    const outcome = countTask.parse(
      answerOf([
        'In this image, there are 1 "Red Circle" (',
        testObject("Red Circle"),
        '), 1 "square" (',
        testObject("square"),
        ").",
      ]),
      { object: "red circle" },
    );
    expect(outcome.result.count).toBe(1);
    expect(outcome.result.objects[0]?.index).toBe(0);
    expect(outcome.issues).toEqual(['not counted: objects labelled "square"']);
  });

  it("reports an answer whose stated number differs from the objects it points at", () => {
    const outcome = countTask.parse(
      answerOf(['There are 3 "star" (', testObject("star"), ") in this image."]),
      { object: "star" },
    );
    expect(outcome.result.count).toBe(1);
    expect(outcome.issues).toEqual(["the answer says 3 but points at 1; the objects are counted"]);
  });
});

describe("count GraphQL slice", () => {
  it("resolves refs through helpers.visualRef, one per counted object", () => {
    const seen: number[] = [];
    const resolvers = countTask.graphql.resolvers!({
      visualRef: (parent, index) => {
        seen.push(index);
        return { messageId: parent.messageId, index };
      },
    });
    const outcome = countTask.parse(
      answerOf([
        'There are 2 "star" (',
        testObject("square"),
        ", ",
        testObject("star"),
        ", ",
        testObject("star"),
        ")",
      ]),
      { object: "star" },
    );
    const refs = resolvers.CountResult!.refs as unknown as (parent: unknown) => unknown[];
    expect(refs({ ...outcome.result, partial: false, issues: [], messageId: "m" })).toEqual([
      { messageId: "m", index: 1 },
      { messageId: "m", index: 2 },
    ]);
    expect(seen).toEqual([1, 2]);
  });
});
