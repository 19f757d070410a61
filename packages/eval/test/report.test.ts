import { describe, expect, it } from "vitest";
import { STAT_NAMES, type StatName } from "../src/coco/index.js";
import { type EvalReport, formatSummary } from "../src/report.js";

const ovdStats = [0.5, 0.7, 0.45, -1, 0.3, 0.6, 0.2, 0.5, 0.55, -1, 0.4, 0.65];
const named = Object.fromEntries(STAT_NAMES.map((k, i) => [k, ovdStats[i]!])) as Record<
  StatName,
  number
>;

describe("report summary", () => {
  it("prints REC with its header and JSON round-trips", () => {
    const report: EvalReport = {
      version: 1,
      task: "rec",
      metric: "box",
      meta: {
        model: "padt-shapes-tiny",
        annotations: "val.json",
        durationMs: 12_345,
        answers: 200,
        partialAnswers: 2,
        answersWithIssues: 5,
      },
      metrics: { samples: 200, accAt50: 0.8125, meanIou: 0.7, missing: 3 },
    };
    const text = formatSummary(report);
    expect(text).toContain("PaDT evaluation: REC");
    expect(text).toContain("padt-shapes-tiny");
    expect(text).toContain("12.3 s");
    expect(text).toMatch(/Acc@0\.5\s+81\.25%/);
    expect(text).toContain("200 (3 without a box)");
    expect(text).toMatch(/partial answers\s+2 of 200 \(cut off or not in the template\)/);
    expect(text).toMatch(/answers with issues\s+5 of 200/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("prints REC under both rules in two columns", () => {
    const text = formatSummary({
      version: 1,
      task: "rec",
      metric: "box",
      meta: {},
      metrics: {
        samples: 4,
        accAt50: 0.75,
        meanIou: 0.6,
        missing: 0,
        paper: { samples: 4, accAt50: 0.5, meanIou: 0.4, missing: 2 },
      },
    });
    expect(text).toMatch(/first object\s+paper \(label = expression, best IoU\)/);
    expect(text).toMatch(/Acc@0\.5\s+75\.00%\s+50\.00%/);
    expect(text).toMatch(/without a box\s+0\s+2/);
  });

  it("prints both RES IoUs under unambiguous names", () => {
    const text = formatSummary({
      version: 1,
      task: "res",
      metric: "mask",
      meta: {},
      metrics: {
        samples: 4,
        mIoU: 0.3125,
        cIoU: 10 / 14,
        precisionAt: { "0.5": 0.25 },
        missing: 1,
      },
    });
    expect(text).toMatch(/mIoU \(reference 'cIoU'\)\s+31\.25%/);
    expect(text).toMatch(/cIoU \(cumulative\)\s+71\.43%/);
    expect(text).toMatch(/Pr@0\.5\s+25\.00%/);
  });

  it("prints OVD box and mask mAP and pycocotools' twelve lines", () => {
    const coco = {
      iouType: "bbox" as const,
      images: 3,
      detections: 9,
      stats: ovdStats,
      named,
      perCategoryAP: { 1: 0.5 },
    };
    const text = formatSummary({
      version: 1,
      task: "ovd",
      metric: "detection",
      meta: {},
      metrics: { bbox: coco, segm: { ...coco, iouType: "segm" } },
    });
    expect(text).toContain("box: mAP 50.00%  AP50 70.00%  AP75 45.00%");
    expect(text).toContain("mask: mAP 50.00%");
    expect(text).toContain(
      " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
    );
  });

  it("prints RIC accuracy, recall, precision and the text metrics", () => {
    const text = formatSummary({
      version: 1,
      task: "ric",
      metric: "caption",
      meta: { answers: 2, partialAnswers: 0, answersWithIssues: 0 },
      reference: { phrases: 4, grounded_phrase_acc: 0.25, grounded_object_recall: 0.75 },
      metrics: {
        referencePhraseAccuracy: 0.25,
        referenceObjectRecall: 0.75,
        samples: 2,
        referencePhrases: 4,
        predictedPhrases: 5,
        matchedPhrases: 4,
        correctPhrases: 2,
        accuracy: 0.5,
        recall: 0.5,
        precision: 0.4,
        bleu4: 0.25,
        rougeL: 0.5,
      },
    });
    // The first metric line is the model card's number (evaluate.py's grounded_phrase_acc).
    expect(text.split("\n\n")[1]?.split("\n")[0]).toMatch(
      /grounded-phrase acc \(evaluate\.py, model card\)\s+25\.00% \(of 4 annotated phrases\)/,
    );
    expect(text).toMatch(/object recall \(evaluate\.py\)\s+75\.00%/);
    expect(text).toMatch(/partial answers\s+0 of 2/);
    expect(text).toMatch(/grounded-phrase accuracy\s+50\.00% \(2\/4 matched\)/);
    expect(text).toMatch(/BLEU-4\s+25\.00%/);
    expect(text).toMatch(/ROUGE-L\s+50\.00%/);
  });

  it("prints a plugin's own metrics as the plugin's summary rows", () => {
    const text = formatSummary({
      version: 1,
      task: "count",
      metric: "custom",
      meta: {},
      metrics: {
        values: { exactAccuracy: 0.75 },
        summary: [
          ["exact count accuracy", "75.00%"],
          ["samples", "4 (1 without an answer)"],
        ],
      },
    });
    expect(text).toContain("PaDT evaluation: COUNT");
    expect(text).toMatch(/exact count accuracy\s+75\.00%/);
    expect(text).toMatch(/samples\s+4 \(1 without an answer\)/);
  });
});
