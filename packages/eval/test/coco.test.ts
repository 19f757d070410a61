import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CocoDataset, type CocoDetection, cocoEvaluate } from "../src/coco/index.js";
import { formatCocoStats } from "../src/report.js";

/**
 * The fixture and its numbers come from tools/scripts/make_coco_fixtures.py (pycocotools
 * 2.0.8); tools/tests/test_coco_fixtures.py recomputes them with pycocotools.
 */
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));
const gt = fixture("coco_gt.json") as CocoDataset;
const dt = fixture("coco_dt.json") as CocoDetection[];
interface Recorded {
  stats: number[];
  summary: string[];
  perCategoryAP: Record<string, number>;
}
const recorded = fixture("coco_stats.json") as { modes: Record<string, Recorded> };

/** The detections of each recorded mode, as the fixture script builds them. */
function detections(mode: string): CocoDetection[] {
  if (mode === "segm") return dt.map(({ bbox: _bbox, ...rest }) => rest);
  if (mode === "segm_from_boxes") return dt.map(({ segmentation: _segm, ...rest }) => rest);
  return dt;
}

describe("COCO evaluation agrees with pycocotools 2.0.8 on the recorded fixture", () => {
  it("has a fixture with crowds, polygons, every area range and over 100 detections", () => {
    expect(gt.images).toHaveLength(31);
    expect(gt.annotations.some((a) => a.iscrowd)).toBe(true);
    expect(gt.annotations.some((a) => Array.isArray(a.segmentation))).toBe(true);
    const areas = gt.annotations.map((a) => a.area);
    expect(areas.some((a) => a < 32 ** 2) && areas.some((a) => a > 96 ** 2)).toBe(true);
    const perImage = new Map<number, number>();
    for (const d of dt) perImage.set(d.image_id, (perImage.get(d.image_id) ?? 0) + 1);
    expect(Math.max(...perImage.values())).toBeGreaterThan(100);
  });

  for (const [mode, expected] of Object.entries(recorded.modes)) {
    it(`${mode}: the 12 stats within 1e-6, the same summary lines and per-category AP`, () => {
      const result = cocoEvaluate(gt, detections(mode), mode === "bbox" ? "bbox" : "segm");
      expect(result.stats).toHaveLength(12);
      const diffs = result.stats.map((v, i) => Math.abs(v - expected.stats[i]!));
      console.log(`${mode}: max |stat diff| = ${Math.max(...diffs).toExponential(2)}`);
      expect(Math.max(...diffs)).toBeLessThan(1e-6);
      expect(formatCocoStats(result)).toEqual(expected.summary);
      for (const [cat, ap] of Object.entries(expected.perCategoryAP)) {
        expect(Math.abs(result.perCategoryAP[Number(cat)]! - ap)).toBeLessThan(1e-6);
      }
    });
  }
});

describe("COCO evaluation edge cases", () => {
  const image = { id: 1, width: 100, height: 100 };
  const categories = [{ id: 1, name: "a" }];
  const ann = (id: number, bbox: [number, number, number, number], iscrowd = 0) => ({
    id,
    image_id: 1,
    category_id: 1,
    bbox,
    area: bbox[2] * bbox[3],
    iscrowd,
  });

  it("scores a perfect detector 1 and an absent area range -1", () => {
    const data = { images: [image], categories, annotations: [ann(1, [10, 10, 50, 50])] };
    const r = cocoEvaluate(
      data,
      [{ image_id: 1, category_id: 1, score: 0.9, bbox: [10, 10, 50, 50] }],
      "bbox",
    );
    expect(r.named.AP).toBeCloseTo(1, 12); // tp / (tp + fp + eps), as pycocotools
    expect(r.named.AR1).toBe(1);
    expect(r.named.APs).toBe(-1);
  });

  it("ignores detections matched to a crowd region", () => {
    const data = {
      images: [image],
      categories,
      annotations: [ann(1, [0, 0, 20, 20]), ann(2, [40, 40, 60, 60], 1)],
    };
    const r = cocoEvaluate(
      data,
      [
        { image_id: 1, category_id: 1, score: 0.9, bbox: [50, 50, 10, 10] },
        { image_id: 1, category_id: 1, score: 0.8, bbox: [0, 0, 20, 20] },
      ],
      "bbox",
    );
    expect(r.named.AP).toBeCloseTo(1, 12); // tp / (tp + fp + eps), as pycocotools
  });

  it("rejects short polygons, detections on unknown images and missing segmentations", () => {
    const withBoxPolygon = {
      images: [image],
      categories,
      annotations: [{ ...ann(1, [0, 0, 2, 2]), segmentation: [[0, 0, 2, 2]] }],
    };
    expect(() => cocoEvaluate(withBoxPolygon, [], "segm")).toThrow(/at least 3 points/);
    const data = { images: [image], categories, annotations: [ann(1, [0, 0, 2, 2])] };
    expect(() =>
      cocoEvaluate(data, [{ image_id: 7, category_id: 1, score: 1, bbox: [0, 0, 1, 1] }], "bbox"),
    ).toThrow(/image 7/);
    expect(() => cocoEvaluate(data, [], "segm")).toThrow(/no segmentation/);
  });
});
