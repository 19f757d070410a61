/** `padt eval`'s scoring on hand-made answers: perfect answers score 1, misses 0. */
import type { Box } from "@padt/engine";
import { rleArea, rleFromBbox, rleToCoco } from "@padt/mask";
import { ovdTask } from "@padt/tasks-ovd";
import { recTask } from "@padt/tasks-rec";
import { resTask } from "@padt/tasks-res";
import { ricTask } from "@padt/tasks-ric";
import { answerOf, testObject } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { type EvalDataset, TASK_EVALS } from "../src/commands/eval_tasks.js";

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
  ovd: [{ image_id: 7, categories: ["circle"] }],
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
const ids = new Set([7]);

describe("padt eval scoring", () => {
  it("rec: ours takes the first object, the paper's rule the best object labelled as asked", () => {
    const spec = TASK_EVALS.rec;
    const [circle, square] = spec.queries(data, ids, 2);
    const scorer = spec.scorer(data);
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
    scorer.add(circle!, recTask.parse(labelled, circle!.input as never), labelled);
    scorer.add(square!, recTask.parse(unlabelled, square!.input as never), unlabelled);
    scorer.add(circle!, null, null); // a failed query misses under both rules
    const { metrics } = scorer.finish();
    if (!("paper" in metrics)) throw new Error("rec metrics expected");
    expect(metrics).toMatchObject({ samples: 3, accAt50: 1 / 3, missing: 1 });
    expect(metrics.paper).toMatchObject({ samples: 3, accAt50: 1 / 3, missing: 2 });
    expect(metrics.meanIou).toBeCloseTo(metrics.paper!.meanIou, 12); // one exact hit each
  });

  it("rec / res: first `referring` queries per image; a right object scores 1, a wrong one 0", () => {
    for (const [name, plugin] of [
      ["rec", recTask],
      ["res", resTask],
    ] as const) {
      const spec = TASK_EVALS[name];
      const queries = spec.queries(data, ids, 2);
      expect(queries.map((q) => q.input)).toEqual([
        { expression: "the circle" },
        { expression: "the square" },
      ]);
      const scorer = spec.scorer(data);
      const right = answerOf(['The "x" refers to ', object("x", 1), " in this image."]);
      const wrong = answerOf(['The "x" refers to ', object("x", 1), " in this image."]);
      scorer.add(queries[0]!, plugin.parse(right, queries[0]!.input as never), right);
      scorer.add(queries[1]!, plugin.parse(wrong, queries[1]!.input as never), wrong);
      const { reference, metrics } = scorer.finish();
      if (name === "rec") expect(reference).toEqual({ queries: 2, "acc@0.5": 0.5 });
      else expect(reference).toMatchObject({ queries: 2, mIoU: 0.5 });
      expect(metrics).toMatchObject({ samples: 2 });
    }
  });

  it("ovd: ground truth is the asked categories; the reference also keeps unasked known labels", () => {
    const spec = TASK_EVALS.ovd;
    const [query] = spec.queries(data, ids, 2);
    const perfect = answerOf(['There is 1 "circle" (', object("circle", 1), ") in this image."]);
    const a = spec.scorer(data);
    a.add(query!, ovdTask.parse(perfect, { categories: ["circle"] }), perfect);
    const good = a.finish();
    if (good.task !== "ovd") throw new Error("ovd expected");
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
    const b = spec.scorer(data);
    b.add(query!, ovdTask.parse(extra, { categories: ["circle"] }), extra);
    expect(b.finish().reference).toMatchObject({ detections: 2 });
  });

  it("ric: phrases matched by text and box, as @padt/eval and as the reference", () => {
    const spec = TASK_EVALS.ric;
    const [query] = spec.queries(data, ids, 2);
    const answer = answerOf([
      "A circle (",
      object("", 1),
      ") and a square (",
      object("", 1, 40),
      ").",
    ]);
    const scorer = spec.scorer(data);
    scorer.add(query!, ricTask.parse(answer, { prompt: "Please describe this image." }), answer);
    const { metrics, reference } = scorer.finish();
    expect(metrics).toMatchObject({ referencePhrases: 2, matchedPhrases: 2, correctPhrases: 1 });
    expect(reference).toEqual({
      phrases: 2,
      grounded_phrase_acc: 0.5,
      grounded_object_recall: 0.5,
    });
  });
});
