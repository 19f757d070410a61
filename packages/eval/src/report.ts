/** The evaluation report: one JSON shape per metric family, and a readable summary of it. */
import type { CocoEvalResult } from "./coco/index.js";
import type { ScoredMetrics } from "./score.js";

export interface ReportMeta {
  /** Model or bundle name. */
  model?: string;
  /** The annotations file evaluated against. */
  annotations?: string;
  images?: string;
  /** ISO 8601. */
  startedAt?: string;
  durationMs?: number;
  /** Answers evaluated (queries that ran). */
  answers?: number;
  /** Answers the task parser flagged as partial (cut off, garbled: not in the template...). */
  partialAnswers?: number;
  /** Answers that carry issues (partial or not: extra objects, labels not asked for...). */
  answersWithIssues?: number;
  /** Samples that failed to run, with the reason. */
  failures?: { id: string | number; error: string }[];
}

export interface OvdMetrics {
  bbox: CocoEvalResult;
  /** Present when the annotations and the detections have masks. */
  segm?: CocoEvalResult;
}

/**
 * `task` is the plugin's name, `metric` the family it is scored as; `reference` holds the
 * PyTorch reference's numbers under evaluate.py's keys. REC's `paper`: the same answers under
 * the paper's rule (label = expression, best IoU).
 */
export type EvalReport = {
  version: 1;
  task: string;
  meta: ReportMeta;
  reference?: Record<string, number>;
} & ScoredMetrics;
export type EvalMetricFamily = EvalReport["metric"];

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function table(rows: readonly [string, string][]): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

/** COCOeval.summarize's twelve lines, in its own format. */
export function formatCocoStats(result: CocoEvalResult): string[] {
  const rows: [boolean, string, string, number][] = [
    [true, "0.50:0.95", "all", 100],
    [true, "0.50", "all", 100],
    [true, "0.75", "all", 100],
    [true, "0.50:0.95", "small", 100],
    [true, "0.50:0.95", "medium", 100],
    [true, "0.50:0.95", "large", 100],
    [false, "0.50:0.95", "all", 1],
    [false, "0.50:0.95", "all", 10],
    [false, "0.50:0.95", "all", 100],
    [false, "0.50:0.95", "small", 100],
    [false, "0.50:0.95", "medium", 100],
    [false, "0.50:0.95", "large", 100],
  ];
  return rows.map(([ap, iou, area, maxDets], i) => {
    const title = ap ? "Average Precision  (AP)" : "Average Recall     (AR)";
    const value = result.stats[i]!.toFixed(3);
    return ` ${title} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${value}`;
  });
}

function metricLines(report: EvalReport): string[] {
  switch (report.metric) {
    case "box": {
      const m = report.metrics;
      const p = m.paper;
      // Each subset's Acc@0.5 on the answer's first object (the model card's breakdown).
      const subsets = Object.entries(m.subsets ?? {}).map(
        ([tag, v]) => `  subset ${tag}: Acc@0.5 ${pct(v.accAt50)} of ${v.samples}`,
      );
      if (!p)
        return [
          ...table([
            ["Acc@0.5", pct(m.accAt50)],
            ["mean box IoU", pct(m.meanIou)],
            ["samples", `${m.samples} (${m.missing} without a box)`],
          ]),
          ...subsets,
        ];
      // Two columns: ours (the answer's first object) and the paper's protocol.
      const rows: [string, string, string][] = [
        ["", "first object", "paper (label = expression, best IoU)"],
        ["Acc@0.5", pct(m.accAt50), pct(p.accAt50)],
        ["mean box IoU", pct(m.meanIou), pct(p.meanIou)],
        ["without a box", String(m.missing), String(p.missing)],
      ];
      const w0 = Math.max(...rows.map((r) => r[0].length));
      const w1 = Math.max(...rows.map((r) => r[1].length));
      return [
        ...rows.map(([k, a, b]) => `  ${k.padEnd(w0)}  ${a.padEnd(w1)}  ${b}`),
        `  samples  ${m.samples}`,
        ...subsets,
      ];
    }
    case "mask": {
      const m = report.metrics;
      return table([
        ["mIoU (reference 'cIoU')", pct(m.mIoU)],
        ["cIoU (cumulative)", pct(m.cIoU)],
        ...Object.entries(m.precisionAt).map(([t, v]): [string, string] => [`Pr@${t}`, pct(v)]),
        ["samples", `${m.samples} (${m.missing} without a mask)`],
      ]);
    }
    case "detection": {
      const { bbox, segm } = report.metrics;
      const lines = [
        `  box: mAP ${pct(bbox.named.AP)}  AP50 ${pct(bbox.named.AP50)}  AP75 ${pct(bbox.named.AP75)}`,
      ];
      if (segm) {
        lines.push(
          `  mask: mAP ${pct(segm.named.AP)}  AP50 ${pct(segm.named.AP50)}  AP75 ${pct(segm.named.AP75)}`,
        );
      }
      lines.push("", "  bbox (pycocotools format):", ...formatCocoStats(bbox));
      if (segm) lines.push("", "  segm (pycocotools format):", ...formatCocoStats(segm));
      return lines;
    }
    case "caption": {
      const m = report.metrics;
      const phrases = report.reference?.phrases;
      return table([
        // First: the number the model card reports (evaluate.py's definitions).
        [
          "grounded-phrase acc (evaluate.py, model card)",
          `${pct(m.referencePhraseAccuracy)}${phrases === undefined ? "" : ` (of ${phrases} annotated phrases)`}`,
        ],
        ["object recall (evaluate.py)", pct(m.referenceObjectRecall)],
        [
          "grounded-phrase accuracy",
          `${pct(m.accuracy)} (${m.correctPhrases}/${m.matchedPhrases} matched)`,
        ],
        ["grounded-phrase recall", `${pct(m.recall)} (of ${m.referencePhrases} annotated)`],
        ["grounded-phrase precision", `${pct(m.precision)} (of ${m.predictedPhrases} predicted)`],
        ["BLEU-4", pct(m.bleu4)],
        ["ROUGE-L", pct(m.rougeL)],
        ["samples", String(m.samples)],
      ]);
    }
    case "custom":
      return table(report.metrics.summary);
    default: {
      const never: never = report;
      throw new Error(`unknown metric family in report: ${JSON.stringify(never)}`);
    }
  }
}

export function formatSummary(report: EvalReport): string {
  const { meta } = report;
  const head = [`PaDT evaluation: ${report.task.toUpperCase()}`];
  if (meta.model) head.push(`  model        ${meta.model}`);
  if (meta.annotations) head.push(`  annotations  ${meta.annotations}`);
  if (meta.durationMs !== undefined)
    head.push(`  duration     ${(meta.durationMs / 1000).toFixed(1)} s`);
  // Counted whenever the run counted them, zero included: a clean run says so.
  const of = meta.answers === undefined ? "" : ` of ${meta.answers}`;
  if (meta.partialAnswers !== undefined)
    head.push(`  partial answers  ${meta.partialAnswers}${of} (cut off or not in the template)`);
  if (meta.answersWithIssues !== undefined)
    head.push(`  answers with issues  ${meta.answersWithIssues}${of}`);
  if (meta.failures?.length) head.push(`  failed samples   ${meta.failures.length}`);
  return [...head, "", ...metricLines(report), ""].join("\n");
}
