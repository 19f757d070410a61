/**
 * `padt eval ... --json | jq .`: the report alone on stdout, progress on stderr, from a child
 * process (NODE_ENV unset) on the shipped model and the committed Shapes fixture.
 */
import { execFileSync } from "node:child_process";
import type { EvalReport } from "@padt/eval";
import { afterEach, expect, it } from "vitest";
import { killLeftovers, startCli } from "../packages/gateway/test/helpers/cli-process.js";

const data = new URL("./fixtures/shapes-eval/", import.meta.url).pathname;

afterEach(killLeftovers);

it("padt eval rec --json prints the report as JSON on stdout, progress on stderr", async () => {
  const proc = startCli([
    "eval",
    "rec",
    "--annotations",
    `${data}annotations.json`,
    "--images",
    `${data}images`,
    "--threads",
    "1",
    "--json",
  ]);
  const exit = await proc.exited;
  expect(exit.code, proc.stderr()).toBe(0);
  const report = JSON.parse(proc.stdout()) as EvalReport;
  expect(report).toMatchObject({
    version: 1,
    task: "rec",
    metric: "box",
    meta: { model: "padt-tiny-shapes", answers: 2, failures: [] },
    metrics: { samples: 2 },
    reference: { queries: 2 },
  });
  expect(report.meta.partialAnswers).toBeGreaterThanOrEqual(0);
  expect(report.meta.answersWithIssues).toBeGreaterThanOrEqual(report.meta.partialAnswers!);
  expect(proc.stderr()).toMatch(/eval rec 2\/2/);
  // And through jq where the machine has it (CI does: .ci/run pipes the same command to it).
  let jq: string | undefined;
  try {
    jq = execFileSync("jq", ["-r", ".task"], { input: proc.stdout() }).toString().trim();
  } catch {
    jq = undefined;
  }
  if (jq !== undefined) expect(jq).toBe("rec");
});
