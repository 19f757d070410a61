/** `padt run` through main() with an Io, on the tiny random bundle (answers are noise). */
import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";

const fixtures = new URL("../../../tests/fixtures/", import.meta.url).pathname;
const model = `${fixtures}padt-tiny-random`;
const image = `${fixtures}padt-tiny-random.images/rec_200x150_0.png`;
const common = ["--image", image, "--model", model, "--threads", "1", "--max-new-tokens", "24"];

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("padt run", () => {
  it("--json prints the task's outcome", async () => {
    const r = await cli("run", "rec", ...common, "--expression", " red circle ", "--json");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe("");
    const outcome = JSON.parse(r.out);
    expect(outcome).toMatchObject({ result: { expression: "red circle" } });
    expect(typeof outcome.partial).toBe("boolean");
    expect(Array.isArray(outcome.issues)).toBe(true);
  });

  it("prints a readable line per object, also for a plugin added with --task", async () => {
    const ovd = await cli("run", "ovd", ...common, "--categories", "circle, square");
    expect(ovd.code, ovd.err).toBe(0);
    expect(ovd.out).toMatch(/^\d+ detections?/);
    const count = await cli(
      "run",
      "count",
      ...common,
      "--task",
      "@padt/tasks-count",
      "--object",
      "red circle",
    );
    expect(count.code, count.err).toBe(0);
    // The count plugin's own format (@padt/tasks-count), not the CLI's generic one.
    const [head, ...rest] = count.out.split("\n");
    const n = Number(/^(\d+) "red circle"$/.exec(head!)?.[1]);
    expect(Number.isInteger(n), head).toBe(true);
    expect(rest.filter((l) => l.startsWith("  #"))).toHaveLength(n);
  });

  it("refuses bad input with its error code before loading the model", async () => {
    const unknown = await cli("run", "count", ...common, "--object", "x");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("TASK_UNKNOWN");
    const empty = await cli("run", "rec", ...common, "--expression", "  ");
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/TASK_INPUT_INVALID: .*expression is empty/);
    const foreign = await cli("run", "rec", ...common, "--expression", "x", "--object", "y");
    expect(foreign.err).toMatch(/TASK_INPUT_INVALID: .*takes no --object/);
    const threshold = await cli(
      "run",
      "ovd",
      ...common,
      "--categories",
      "a",
      "--score-threshold",
      "2",
    );
    expect(threshold.err).toContain("TASK_INPUT_INVALID");
  });

  it("answers command-line mistakes with the usage and status 2", async () => {
    for (const argv of [
      ["run"],
      ["run", "rec", "--expression", "x"],
      ["run", "rec", ...common, "--frobnicate"],
      ["run", "rec", ...common, "--expression", "x", "--max-new-tokens", "0"],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err).toContain("Usage");
    }
    const missing = await cli(
      "run",
      "rec",
      ...common,
      "--image",
      "/nonexistent.png",
      "--expression",
      "x",
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("cannot read --image /nonexistent.png");
    const notImage = await cli(
      "run",
      "rec",
      ...common,
      "--image",
      `${fixtures}../../README.md`,
      "--expression",
      "x",
    );
    expect(notImage.code).toBe(1);
    expect(notImage.err).toContain("IMAGE_DECODE_FAILED");
  });
});
