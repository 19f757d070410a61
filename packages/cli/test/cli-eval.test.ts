/**
 * `padt eval` on a tiny Shapes split generated here (3 images, seed 0, with the Python tools)
 * and the tiny random bundle: the numbers are noise, the mechanics are real.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvalReport } from "@padt/eval";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/index.js";

const root = new URL("../../../", import.meta.url).pathname;
const python = join(root, "tools/.venv/bin/python");
const model = join(root, "tests/fixtures/padt-tiny-random");
const dir = mkdtempSync(join(tmpdir(), "padt-eval-"));
const data = join(dir, "shapes");

beforeAll(() => {
  if (!existsSync(python)) return;
  execFileSync(
    python,
    [
      "-m",
      "padt.shapes",
      "generate",
      "--split",
      "test",
      "--count",
      "3",
      "--seed",
      "0",
      "--out",
      data,
    ],
    { cwd: join(root, "tools"), stdio: "pipe" },
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function evaluate(task: string, ...extra: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const file = join(dir, `${task}.json`);
  const argv = ["eval", task, "--annotations", join(data, "annotations.json")];
  argv.push("--images", join(data, "images"), "--model", model, "--threads", "1");
  argv.push("--max-new-tokens", "20", "--out", file, ...extra);
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  expect(code, err.join("\n")).toBe(0);
  return {
    report: JSON.parse(readFileSync(file, "utf8")) as EvalReport,
    out: out.join("\n"),
    err: err.join("\n"),
  };
}

const unit = (v: number) => {
  expect(v).toBeGreaterThanOrEqual(0);
  expect(v).toBeLessThanOrEqual(1);
};

describe.skipIf(!existsSync(python))("padt eval (needs tools/.venv)", () => {
  it("rec: Acc@0.5 and mean IoU over the first referring expressions of each image", async () => {
    const { report, out, err } = await evaluate("rec", "--referring", "1", "--limit", "2");
    expect(report).toMatchObject({
      version: 1,
      task: "rec",
      metric: "box",
      meta: { model: expect.any(String), answers: 2 },
    });
    if (report.metric !== "box") throw new Error("box metrics expected");
    expect(report.metrics.samples).toBe(2);
    unit(report.metrics.accAt50);
    unit(report.metrics.meanIou);
    expect(report.reference).toEqual({ queries: 2, "acc@0.5": report.metrics.accAt50 });
    expect(report.metrics.paper).toMatchObject({ samples: 2 });
    unit(report.metrics.paper!.accAt50);
    expect(out).toContain("Acc@0.5");
    expect(out).toContain("paper (label = expression, best IoU)");
    expect(err).toMatch(/eval rec 2\/2 [\d.]+\/s ETA/);
  });

  it("res: mIoU and cumulative IoU", async () => {
    const { report } = await evaluate("res", "--referring", "1");
    if (report.metric !== "mask") throw new Error("mask metrics expected");
    expect(report.metrics.samples).toBe(3);
    unit(report.metrics.mIoU);
    unit(report.metrics.cIoU);
    expect(report.reference?.cIoU).toBe(report.metrics.cIoU);
  });

  it("ovd: COCO box (and mask) mAP, AP50, AP75", async () => {
    const { report, out } = await evaluate("ovd");
    if (report.metric !== "detection") throw new Error("detection metrics expected");
    expect(report.metrics.bbox.images).toBe(3);
    for (const m of [report.metrics.bbox, report.metrics.segm].filter((m) => m !== undefined)) {
      for (const k of ["AP", "AP50", "AP75"] as const) unit(m.named[k]);
    }
    unit(report.reference?.mAP ?? -1);
    unit(report.reference?.AP50 ?? -1);
    expect(out).toContain("Average Precision");
  });

  it("ric: grounded-phrase accuracy, recall, precision, BLEU-4, ROUGE-L", async () => {
    const { report, out } = await evaluate("ric");
    if (report.metric !== "caption") throw new Error("caption metrics expected");
    const m = report.metrics;
    expect(m.samples).toBe(3);
    expect(m.referencePhrases).toBeGreaterThan(0);
    for (const v of [m.accuracy, m.recall, m.precision, m.bleu4, m.rougeL]) unit(v);
    expect(report.reference?.phrases).toBe(m.referencePhrases);
    expect(report.reference?.grounded_phrase_acc).toBe(m.referencePhraseAccuracy);
    unit(report.reference?.grounded_object_recall ?? -1);
    expect(out).toContain("grounded_phrase_acc");
    // The summary's first metric line is the model card's RIC number (evaluate.py's).
    const first = out.split("\n\n")[1]?.split("\n")[0];
    expect(first).toMatch(/grounded-phrase acc \(evaluate\.py, model card\)/);
  });

  it("refuses a task it cannot score, and missing flags, with status 2", async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    // count has an adapter but is not configured here (no --task @padt/tasks-count).
    expect(await main(["eval", "count", "--annotations", "a", "--images", "b"], io)).toBe(2);
    expect(await main(["eval", "rec", "--annotations", "a"], io)).toBe(2);
    expect(err.join("\n")).toContain("rec, res, ovd, ric (the configured plugins");
  });
});

describe("padt eval's answer counts (committed fixture)", () => {
  const fixture = join(root, "tests/fixtures/shapes-eval");

  it("counts partial answers and answers with issues, in the report and the summary", async () => {
    // The random bundle never stops by itself: every answer is cut off, so partial.
    const out: string[] = [];
    const err: string[] = [];
    const argv = ["eval", "rec", "--annotations", join(fixture, "annotations.json")];
    argv.push("--images", join(fixture, "images"), "--model", model, "--threads", "1");
    argv.push("--max-new-tokens", "8", "--json");
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code, err.join("\n")).toBe(0);
    const report = JSON.parse(out.join("\n")) as EvalReport;
    expect(report.meta).toMatchObject({ answers: 2, partialAnswers: 2, answersWithIssues: 2 });
    const summary = await main(argv.slice(0, -1), { out: (l) => out.push(l), err: () => {} });
    expect(summary).toBe(0);
    expect(out.join("\n")).toMatch(/partial answers\s+2 of 2 \(cut off or not in the template\)/);
  });
});
