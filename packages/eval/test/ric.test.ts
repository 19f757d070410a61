import { describe, expect, it } from "vitest";
import { matchPhrases, normalisePhrase, ricMetrics, unionBox } from "../src/ric.js";
import { bleu4, rougeL, tokenize } from "../src/text.js";

const box = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });

describe("RIC grounded phrases", () => {
  const references = [
    { text: "A man", boxes: [box(0, 0, 10, 10)] },
    { text: "the red motorcycle", boxes: [box(20, 0, 10, 10)] },
    { text: "two dogs", boxes: [box(0, 20, 5, 5), box(10, 20, 5, 5)] },
  ];
  const phrases = [
    { text: "a man", boxes: [box(1, 1, 10, 10)] }, // same text; IoU 81 / 119
    { text: "a motorcycle", boxes: [box(20, 0, 10, 10)] }, // same head noun; IoU 1
    { text: "dogs", boxes: [box(0, 20, 5, 5)] }, // head noun; IoU 25 / 75 against the union box
    { text: "a tree", boxes: [box(50, 50, 5, 5)] }, // no reference
  ];

  it("normalises case, punctuation and articles", () => {
    expect(normalisePhrase("The  Red, motorcycle!")).toEqual(["red", "motorcycle"]);
    expect(tokenize("A dog's ball")).toEqual(["a", "dog", "s", "ball"]);
  });

  it("takes the union box of a phrase's boxes", () => {
    expect(unionBox(references[2]!.boxes)).toEqual(box(0, 20, 15, 5));
    expect(unionBox([])).toBeNull();
  });

  it("matches by text first, then by head noun, one to one", () => {
    const matches = matchPhrases(references, phrases);
    expect(matches.map((m) => [m.reference, m.prediction])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    expect(matches[0]!.iou).toBeCloseTo(81 / 119, 15);
    expect(matches[2]!.iou).toBeCloseTo(1 / 3, 15);
  });

  it("assigns repeated phrases by IoU, not by order", () => {
    const refs = [
      { text: "a man", boxes: [box(0, 0, 10, 10)] },
      { text: "a man", boxes: [box(50, 50, 10, 10)] },
    ];
    const preds = [
      { text: "man", boxes: [box(50, 50, 10, 10)] },
      { text: "the man", boxes: [box(0, 0, 10, 10)] },
    ];
    const matches = matchPhrases(refs, preds);
    expect(matches.map((m) => [m.reference, m.prediction, m.iou])).toEqual([
      [0, 1, 1],
      [1, 0, 1],
    ]);
  });

  it("reports accuracy over matched, recall over annotated, precision over predicted phrases", () => {
    const m = ricMetrics([
      {
        id: 1,
        referenceCaptions: ["A man rides the red motorcycle past two dogs."],
        referencePhrases: references,
        caption: "A man rides a motorcycle near dogs and a tree.",
        phrases,
      },
      {
        id: 2,
        referenceCaptions: ["A cat."],
        referencePhrases: [{ text: "A cat", boxes: [box(0, 0, 4, 4)] }],
        caption: "A cat.",
        phrases: [{ text: "A cat", boxes: [] }], // no box: never correct
      },
    ]);
    expect(m).toMatchObject({
      samples: 2,
      referencePhrases: 4,
      predictedPhrases: 5,
      matchedPhrases: 4,
      correctPhrases: 2,
      accuracy: 0.5,
      recall: 0.5,
      precision: 0.4,
    });
  });
});

describe("caption metrics", () => {
  it("BLEU-4: clipped n-gram precisions, geometric mean, no smoothing", () => {
    const pair = { candidate: "The cat sat on the mat.", references: ["the cat sat on a mat"] };
    // p1 = 5/6 (clipped "the"), p2 = 3/5, p3 = 2/4, p4 = 1/3; equal lengths: no penalty.
    expect(bleu4([pair])).toBeCloseTo((((((((5 / 6) * 3) / 5) * 2) / 4) * 1) / 3) ** 0.25, 12);
    expect(
      bleu4([{ candidate: "the cat is on the mat", references: ["the cat sat on a mat"] }]),
    ).toBe(0);
    expect(bleu4([{ candidate: "", references: ["a b c d"] }])).toBe(0);
  });

  it("BLEU-4: brevity penalty with the closest reference length, the shorter on a tie", () => {
    const short = { candidate: "a b c d", references: ["a b c d e f"] };
    expect(bleu4([short])).toBeCloseTo(Math.exp(1 - 6 / 4), 12);
    const tie = { candidate: "a b c d", references: ["a b c", "a b c d e"] };
    expect(bleu4([tie])).toBe(1);
  });

  it("BLEU-4 is corpus level: counts are summed before the ratios", () => {
    const pairs = [
      { candidate: "a b c d", references: ["a b c d"] },
      { candidate: "a b c d e", references: ["a b c d x"] },
    ];
    // p1 = 8/9, p2 = 6/7, p3 = 4/5, p4 = 2/3.
    expect(bleu4(pairs)).toBeCloseTo((((((((8 / 9) * 6) / 7) * 4) / 5) * 2) / 3) ** 0.25, 12);
  });

  it("ROUGE-L: LCS F-measure with beta 1.2, best reference, averaged", () => {
    const same = { candidate: "the cat sat on the mat", references: ["the cat is on the mat"] };
    expect(rougeL([same])).toBeCloseTo(5 / 6, 12);
    const part = { candidate: "a b c", references: ["x y", "a b c d e f"] };
    const b2 = 1.2 ** 2;
    expect(rougeL([part])).toBeCloseTo(((1 + b2) * 1 * 0.5) / (0.5 + b2), 12);
    expect(rougeL([same, { candidate: "zzz", references: ["a"] }])).toBeCloseTo(5 / 12, 12);
  });
});
