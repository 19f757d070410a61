/**
 * `npm ci` links a workspace's bin only when its file exists at install time, before any
 * build: the bin must be a committed file outside dist/ (a fresh clone then runs `npx padt`).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../../", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(`${root}packages/cli/package.json`, "utf8")) as {
  bin: Record<string, string>;
};

describe("the padt bin", () => {
  it("is a file git tracks, outside dist/, that loads the built entry", () => {
    const bin = manifest.bin.padt;
    expect(bin).toBeDefined();
    const path = `packages/cli/${bin?.replace(/^\.\//, "")}`;
    expect(path).not.toMatch(/\/dist\//);
    const tracked = execFileSync("git", ["ls-files", "--error-unmatch", path], { cwd: root });
    expect(tracked.toString().trim()).toBe(path);
    expect(readFileSync(`${root}${path}`, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(readFileSync(`${root}${path}`, "utf8")).toContain('import("../dist/bin.js")');
  });
});
