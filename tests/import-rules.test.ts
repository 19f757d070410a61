// The import rules (.dependency-cruiser.cjs, run by `npm run lint`) must bite: each deliberate
// violation below, in a throw-away tree shaped like the repository, is reported under its
// rule's name, and the imports the layout allows are not.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules/.bin/depcruise");
const CONFIG = join(ROOT, ".dependency-cruiser.cjs");

// Each package's entry point, so the relative imports below resolve as workspace ones do.
const ENTRIES = ["gateway", "cli", "engine", "task-api", "tasks-rec", "protocol", "mask", "eval"];

const FILES: Record<string, string> = {
  // violations
  "packages/eval/src/uses_gateway.ts": 'import "../../gateway/src/index";',
  "packages/gateway/src/uses_cli.ts": 'import "../../cli/src/index";',
  "packages/tasks-rec/src/uses_engine.ts": 'import "../../engine/src/index";',
  "packages/tasks-rec/src/uses_other_plugin.ts": 'import "../../tasks-count/src/index";',
  "packages/tasks-rec/src/uses_node.ts": 'import "node:fs";',
  "packages/engine/src/uses_task_api.ts": 'import "../../task-api/src/index";',
  "packages/protocol/src/uses_engine.ts": 'import "../../engine/src/index";',
  // allowed
  "packages/tasks-rec/src/fine.ts": 'import "../../task-api/src/index";\nimport "zod";',
  "packages/engine/src/fine.ts":
    'import "../../protocol/src/index";\nimport "../../mask/src/index";',
  "packages/cli/src/fine.ts": 'import "../../gateway/src/index";\nimport "../../engine/src/index";',
  "packages/eval/test/fine.test.ts": 'import "../../gateway/src/index";',
  "tests/fine.test.ts": 'import "../packages/cli/src/index";',
};

interface Violation {
  from: string;
  rule: { name: string };
}

let dir: string;
let violations: Violation[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "padt-import-rules-"));
  const files: Record<string, string> = {
    ...FILES,
    "packages/tasks-count/src/index.ts": "export {};",
  };
  for (const name of ENTRIES) files[`packages/${name}/src/index.ts`] = "export {};";
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${text}\n`);
  }
  const { stdout } = await promisify(execFile)(
    DEPCRUISE,
    ["packages", "tests", "--config", CONFIG, "--output-type", "json"],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" })); // exits 1 on errors
  violations = JSON.parse(stdout).summary.violations;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rulesBroken = (from: string) =>
  violations.filter((v) => v.from === from).map((v) => v.rule.name);

describe("import rules", () => {
  it.each([
    ["packages/eval/src/uses_gateway.ts", "gateway-is-the-top"],
    ["packages/gateway/src/uses_cli.ts", "cli-is-the-top"],
    ["packages/tasks-rec/src/uses_engine.ts", "plugins-use-the-task-api-only"],
    ["packages/tasks-rec/src/uses_other_plugin.ts", "plugins-use-the-task-api-only"],
    ["packages/tasks-rec/src/uses_node.ts", "plugins-use-the-task-api-only"],
    ["packages/engine/src/uses_task_api.ts", "engine-knows-no-tasks"],
    ["packages/protocol/src/uses_engine.ts", "leaves-stay-light"],
  ])("reports %s under %s", (from, rule) => {
    expect(rulesBroken(from)).toEqual([rule]);
  });

  it("lets plugins use the task API and zod, the engine the leaves, the CLI and tests anything", () => {
    const allowed = Object.keys(FILES).filter((path) => /fine(\.test)?\.ts$/.test(path));
    expect(allowed).toHaveLength(5);
    for (const from of allowed) expect(rulesBroken(from), from).toEqual([]);
  });
});
