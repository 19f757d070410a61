/**
 * The plugins' evaluation adapters scored by @padt/eval, on hand-made answers: perfect answers
 * score 1, misses 0, and each number is the one the PyTorch reference would give.
 */
import { scoreSamples } from "@padt/eval";
import { rleArea, rleFromBbox, rleToCoco } from "@padt/mask";
import type { Box, EvalDataset, EvalQuery, GenerationResult, TaskPlugin } from "@padt/task-api";
import { countTask } from "@padt/tasks-count";
import { ovdTask } from "@padt/tasks-ovd";
import { recTask } from "@padt/tasks-rec";
import { resTask } from "@padt/tasks-res";
import { ricTask } from "@padt/tasks-ric";
import { answerOf, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";

const H = 80;
const W = 100;
const boxes: Record<number, [number, number, number, number]> = {
  1: [10, 10, 20, 20],
  2: [50, 30, 30, 40],
};
const mask = (id: number) => rleToCoco(rleFromBbox(boxes[id]!, H, W));
const data: EvalDataset = {
  images: [{ id: 7, width: W, height: H, file_name: "7.png" }],
  categories: [
    { id: 1, name: "circle" },
    { id: 2, name: "square" },
  ],
  annotations: [1, 2].map((id) => ({
    id,
    image_id: 7,
    category_id: id,
    category: id === 1 ? "circle" : "square",
    bbox: boxes[id]!,
    area: rleArea(rleFromBbox(boxes[id]!, H, W)),
    iscrowd: 0,
    segmentation: mask(id),
  })),
  referring: [
    { image_id: 7, expression: "the circle", annotation_id: 1 },
    { image_id: 7, expression: "the square", annotation_id: 2 },
    { image_id: 7, expression: "the third", annotation_id: 2 },
  ],
  ovd: [{ image_id: 7, categories: ["circle", "star"] }],
  captions: [
    {
      image_id: 7,
      caption: "A circle and a square.",
      phrases: [
        { text: "A circle", annotation_ids: [1] },
        { text: "a square", annotation_ids: [2] },
      ],
    },
  ],
};
const object = (label: string, id: number, shift = 0) => {
  const [x, y, width, height] = boxes[id]!;
  const m = mask(id);
  const box: Box = { x: x + shift + 0.4, y: y - 0.4, width, height };
  return testObject(label, { box, mask: { height: H, width: W, counts: m.counts, area: 0 } });
};
const imageIds = new Set([7]);

function queries(plugin: TaskPlugin, perImage?: number): EvalQuery[] {
  return plugin.evaluation!.queries(data, { imageIds, ...(perImage ? { perImage } : {}) });
}

/** Each query with its answer (null: it failed to run), through the plugin, then @padt/eval. */
function score(plugin: TaskPlugin, runs: [EvalQuery, GenerationResult | null][]) {
  const spec = plugin.evaluation!;
  const samples = runs.map(([query, answer]) =>
    spec.sample(
      query,
      answer ? plugin.parse(answer, plugin.input.parse(query.input)) : null,
      answer,
      data,
    ),
  );
  return scoreSamples(spec, samples, data);
}

describe("the plugins' evaluation adapters, scored by @padt/eval", () => {
  it("rec: ours takes the first object, the paper's rule the best object labelled as asked", () => {
    const [circle, square] = queries(recTask);
    // Ours misses (the first object is the square); the paper's hits (its best "the circle").
    const labelled = answerOf([
      'The "the square" refers to ',
      object("the square", 2),
      ', "the circle" ',
      object("the circle", 2),
      ' and "the circle" ',
      object("the circle", 1),
      ".",
    ]);
    // Ours hits; the paper's misses: no object is labelled "the square".
    const unlabelled = answerOf(['The "x" refers to ', object("x", 2), " in this image."]);
    const scored = score(recTask, [
      [circle!, labelled],
      [square!, unlabelled],
      [circle!, null], // a failed query misses under both rules
    ]);
    if (scored.metric !== "box") throw new Error("box metrics expected");
    const { metrics } = scored;
    expect(metrics).toMatchObject({ samples: 3, accAt50: 1 / 3, missing: 1 });
    expect(metrics.paper).toMatchObject({ samples: 3, accAt50: 1 / 3, missing: 2 });
    expect(metrics.meanIou).toBeCloseTo(metrics.paper!.meanIou, 12); // one exact hit each
    expect(scored.reference).toEqual({ queries: 3, "acc@0.5": 1 / 3 });
    // The model card's breakdown, tagged as evaluate.py tags it: 2 objects in the image; the
    // circle is 20 px, the square 40 px on its longer side.
    expect(metrics.subsets).toMatchObject({
      "objects<5": { samples: 3, accAt50: 1 / 3 },
      "<40px": { samples: 2, accAt50: 0 },
      ">=40px": { samples: 1, accAt50: 1 },
    });
  });

  it("rec / res: first `perImage` queries per image; a right object scores 1, a wrong one 0", () => {
    for (const plugin of [recTask, resTask] as TaskPlugin[]) {
      const [a, b] = queries(plugin, 2);
      expect(queries(plugin, 2).map((q) => q.input)).toEqual([
        { expression: "the circle" },
        { expression: "the square" },
      ]);
      expect(queries(plugin)).toHaveLength(2); // evaluate.py's default: 2 per image
      expect(queries(plugin, 1)).toHaveLength(1);
      const right = answerOf(['The "x" refers to ', object("x", 1), " in this image."]);
      const wrong = answerOf(['The "x" refers to ', object("x", 1), " in this image."]);
      const { reference, metrics } = score(plugin, [
        [a!, right],
        [b!, wrong],
      ]);
      if (plugin.name === "rec") expect(reference).toEqual({ queries: 2, "acc@0.5": 0.5 });
      else expect(reference).toMatchObject({ queries: 2, mIoU: 0.5 });
      expect(metrics).toMatchObject({ samples: 2 });
    }
  });

  it("ovd: ground truth is the asked categories; the reference also keeps unasked known labels", () => {
    const [query] = queries(ovdTask);
    const perfect = answerOf(['There is 1 "circle" (', object("circle", 1), ") in this image."]);
    const good = score(ovdTask, [[query!, perfect]]);
    if (good.metric !== "detection") throw new Error("detection metrics expected");
    expect(good.metrics.bbox.named.AP).toBeCloseTo(1, 12);
    expect(good.metrics.segm?.named.AP).toBeCloseTo(1, 12);
    expect(good.reference).toMatchObject({ images: 1, detections: 1, mAP: expect.closeTo(1, 12) });

    // An unasked square (known category): the plugin drops it, the reference scores it (a
    // false positive of "square", which has no ground truth here: no effect on mAP).
    const extra = answerOf([
      'In this image, there are 1 "circle" (',
      object("circle", 1),
      '), 1 "square" (',
      object("square", 2),
      ").",
    ]);
    expect(score(ovdTask, [[query!, extra]]).reference).toMatchObject({ detections: 2 });
  });

  it("ric: phrases matched by text and box, as @padt/eval and as the reference", () => {
    const [query] = queries(ricTask);
    const answer = answerOf([
      "A circle (",
      object("", 1),
      ") and a square (",
      object("", 1, 40),
      ").",
    ]);
    const scored = score(ricTask, [[query!, answer]]);
    if (scored.metric !== "caption") throw new Error("caption metrics expected");
    expect(scored.metrics).toMatchObject({
      referencePhrases: 2,
      matchedPhrases: 2,
      correctPhrases: 1,
      referencePhraseAccuracy: 0.5,
      referenceObjectRecall: 0.5,
    });
    expect(scored.reference).toEqual({
      phrases: 2,
      grounded_phrase_acc: 0.5,
      grounded_object_recall: 0.5,
    });
  });

  it("count: one question per asked category, the annotated number as the answer", () => {
    const asked = queries(countTask);
    expect(asked.map((q) => q.input)).toEqual([{ object: "circle" }, { object: "star" }]);
    const one = answerOf(['There is 1 "circle" (', object("circle", 1), ") in this image."]);
    const none = answerOf(["There is no object in this image."]);
    const right = score(countTask, [
      [asked[0]!, one],
      [asked[1]!, none],
    ]);
    expect(right).toMatchObject({
      metric: "custom",
      metrics: { values: { samples: 2, exactAccuracy: 1, meanAbsoluteError: 0, missing: 0 } },
      reference: {},
    });
    const wrong = score(countTask, [
      [asked[0]!, none],
      [asked[1]!, null],
    ]);
    expect((wrong.metrics as { values: object }).values).toEqual({
      samples: 2,
      exactAccuracy: 0, // a failed query is never exact, even where 0 is expected
      meanAbsoluteError: 0.5, // |0 - 1| for the circle; the failed "star" misses its 0 by 0
      missing: 1,
    });
  });
});
