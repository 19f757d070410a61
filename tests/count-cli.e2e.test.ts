/**
 * A sixth plugin gets `padt run` formatting and `padt eval` from its own package: the example
 * counting plugin, added with one `--task` (the configuration line), run as users run the
 * command (a child process, NODE_ENV unset) on the shipped model and the committed Shapes
 * fixture (tests/fixtures/shapes-eval).
 */
import { afterEach, describe, expect, it } from "vitest";
import { killLeftovers, startCli } from "../packages/gateway/test/helpers/cli-process.js";

const data = new URL("./fixtures/shapes-eval/", import.meta.url).pathname;
const plugin = ["--task", "@padt/tasks-count", "--threads", "1"];

afterEach(killLeftovers);

async function padt(...args: string[]) {
  const proc = startCli(args);
  const exit = await proc.exited;
  return { code: exit.code, out: proc.stdout(), err: proc.stderr() };
}

describe("the count plugin from the command line", () => {
  it("padt run count prints the plugin's own lines", async () => {
    const r = await padt(
      "run",
      "count",
      ...plugin,
      "--image",
      `${data}images/000001.png`,
      "--object",
      "cross",
    );
    expect(r.code, r.err).toBe(0);
    const [head, ...rest] = r.out.trimEnd().split("\n");
    const n = Number(/^(\d+) "cross"$/.exec(head!)?.[1]);
    expect(Number.isInteger(n), r.out).toBe(true);
    expect(rest.filter((l) => /^ {2}#\d+ box x=/.test(l))).toHaveLength(n);
  });

  it("padt eval count scores each asked category of the OVD lists", async () => {
    const args = ["eval", "count", ...plugin, "--annotations", `${data}annotations.json`];
    const r = await padt(...args, "--images", `${data}images`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("PaDT evaluation: COUNT");
    expect(r.out).toMatch(/exact count accuracy\s+\d+\.\d\d%/);
    expect(r.out).toMatch(/partial answers\s+\d+ of 3/);
    expect(r.out).not.toContain("as the PyTorch reference"); // evaluate.py does not count
    expect(r.err).toMatch(/eval count 3\/3/);
  });

  it("without the configuration line, count is not a task to evaluate", async () => {
    const r = await padt(
      "eval",
      "count",
      "--annotations",
      `${data}annotations.json`,
      "--images",
      data,
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain("name the task to evaluate: rec, res, ovd, ric");
  });
});
