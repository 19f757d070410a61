// House rules of the repository, checked on every run so a clean clone stays installable.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

describe("repository", () => {
  it("keeps onnxruntime-node from downloading CUDA files at install", () => {
    expect(read(".npmrc")).toMatch(/^onnxruntime-node-install=skip$/m);
  });

  it("opens the README with the two quick-start commands", () => {
    const head = read("README.md").split("\n").slice(0, 20).join("\n");
    expect(head).toMatch(/npm start/);
    expect(head).toMatch(/npm test/);
  });

  it("keeps models/ under 40 MB", () => {
    expect(sizeOf(join(root, "models"))).toBeLessThan(40 * 1024 * 1024);
  });

  it("gives every workspace package an entry point and at least one test", () => {
    for (const name of readdirSync(join(root, "packages"))) {
      const dir = join(root, "packages", name);
      // Libraries export from src/index.ts; the playground is a page whose entry is main.tsx.
      const entry = ["index.ts", "main.tsx"].some((f) => existsSync(join(dir, "src", f)));
      expect(entry, `${name}/src/index.ts or main.tsx`).toBe(true);
      const tests = existsSync(join(dir, "test")) ? readdirSync(join(dir, "test")) : [];
      expect(
        tests.some((f) => f.endsWith(".test.ts")),
        `${name} has tests`,
      ).toBe(true);
    }
  });

  it("pins every Python requirement", () => {
    const lines = read("tools/requirements.txt")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line, line).toMatch(/^[A-Za-z0-9_.-]+(\[[^\]]+\])?==[^=\s]+$/);
  });

  it("runs the README's test command in CI against a real PostgreSQL server", () => {
    const ci = read(".ci/run");
    expect(ci).toMatch(/npm test/);
    expect(ci).toMatch(/TEST_DATABASE_URL=/);
    expect(ci).toMatch(/npm ci/);
  });
});
