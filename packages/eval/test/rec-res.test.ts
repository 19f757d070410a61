import { rleEncode } from "@padt/mask";
import { describe, expect, it } from "vitest";
import { boxIou } from "../src/box.js";
import { paperRecSample, recMetrics } from "../src/rec.js";
import { resMetrics } from "../src/res.js";

const box = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });

describe("REC Acc@0.5", () => {
  it("counts IoU >= 0.5 as a hit, a missing box as a miss", () => {
    const gt = box(0, 0, 10, 10);
    const m = recMetrics([
      { id: 1, groundTruth: gt, prediction: box(0, 0, 10, 10) }, // 1
      { id: 2, groundTruth: gt, prediction: box(5, 0, 10, 10) }, // 50 / 150
      { id: 3, groundTruth: gt, prediction: box(0, 0, 10, 20) }, // exactly 0.5
      { id: 4, groundTruth: gt, prediction: null },
    ]);
    expect(m).toEqual({ samples: 4, accAt50: 0.5, meanIou: (1 + 1 / 3 + 0.5) / 4, missing: 1 });
  });

  it("gives 0 for an empty union and an empty set", () => {
    expect(boxIou(box(1, 1, 0, 0), box(1, 1, 0, 0))).toBe(0);
    expect(recMetrics([])).toEqual({ samples: 0, accAt50: 0, meanIou: 0, missing: 0 });
  });
});

describe("REC under the paper's rule (PaDT eval_refcoco.py)", () => {
  const gt = box(0, 0, 10, 10);
  it("takes the best IoU among objects labelled exactly as the expression", () => {
    const objects = [
      { label: "dog", box: box(0, 0, 10, 10) },
      { label: "the cat", box: box(5, 0, 10, 10) },
      { label: "the cat", box: box(0, 0, 10, 20) },
      { label: "the cat ", box: box(0, 0, 10, 10) },
    ];
    expect(paperRecSample(1, gt, "the cat", objects)).toEqual({
      id: 1,
      groundTruth: gt,
      prediction: box(0, 0, 10, 20),
    });
  });

  it("misses when no label matches, whatever the boxes", () => {
    const sample = paperRecSample(2, gt, "the cat", [{ label: "cat", box: gt }]);
    expect(sample.prediction).toBeNull();
    expect(recMetrics([sample])).toMatchObject({ accAt50: 0, missing: 1 });
  });
});

describe("RES mIoU and cumulative IoU", () => {
  // Column-major pixels; sizes 2x2 and 3x3.
  const full2 = rleEncode([1, 1, 1, 1], 2, 2);
  const one2 = rleEncode([1, 0, 0, 0], 2, 2);
  const full3 = rleEncode(new Array(9).fill(1), 3, 3);
  const dot3 = rleEncode([0, 0, 0, 0, 1, 0, 0, 0, 0], 3, 3);
  const empty3 = rleEncode(new Array(9).fill(0), 3, 3);

  it("averages per-sample IoU (the reference's 'cIoU') and sums for the true cIoU", () => {
    const m = resMetrics([
      { id: "a", groundTruth: full2, prediction: one2 }, // 1 / 4
      { id: "b", groundTruth: full3, prediction: full3 }, // 9 / 9
      { id: "c", groundTruth: dot3, prediction: null }, // 0 / 1
      { id: "d", groundTruth: empty3, prediction: empty3 }, // empty union: 0, as the reference
    ]);
    expect(m.mIoU).toBeCloseTo((0.25 + 1) / 4, 15);
    expect(m.cIoU).toBeCloseTo(10 / 14, 15);
    expect(m.precisionAt).toEqual({
      "0.5": 0.25,
      "0.6": 0.25,
      "0.7": 0.25,
      "0.8": 0.25,
      "0.9": 0.25,
    });
    expect(m.missing).toBe(1);
    expect(m.samples).toBe(4);
  });

  it("rejects a prediction of another size", () => {
    expect(() => resMetrics([{ id: 1, groundTruth: full2, prediction: full3 }])).toThrow(/size/);
  });
});
