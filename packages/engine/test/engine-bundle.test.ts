import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "@padt/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "padt-bundle-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the tiny bundle, changed by `spoil`. */
function spoiled(name: string, spoil: (dir: string) => void): string {
  const dir = join(scratch, name);
  cpSync(bundle, dir, { recursive: true });
  spoil(dir);
  return dir;
}

describe("bundle loading", () => {
  it("accepts the tiny bundle and every file's checksum", async () => {
    const manifest = await loadManifest(bundle);
    expect(manifest.model.name).toBe("padt-tiny-random");
    expect(Object.keys(manifest.graphs).sort()).toEqual(["decoder", "llm", "prototypes", "vision"]);
  });

  it.each([
    [
      "a directory without padt.json",
      (d: string) => rmSync(join(d, "padt.json")),
      ErrorCode.BUNDLE_FILE_MISSING,
      /no padt.json/,
    ],
    [
      "a missing graph",
      (d: string) => rmSync(join(d, "llm.onnx")),
      ErrorCode.BUNDLE_FILE_MISSING,
      /llm.onnx is missing/,
    ],
    [
      "a truncated weights file",
      (d: string) => truncateSync(join(d, "weights.bin"), 1000),
      ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
      /truncated/,
    ],
    [
      "a replaced tokenizer of the same size",
      (d: string) => {
        const path = join(d, "tokenizer.json");
        const bytes = readFileSync(path);
        bytes[bytes.length - 2] = bytes[bytes.length - 2] === 0x20 ? 0x0a : 0x20;
        writeFileSync(path, bytes);
      },
      ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
      /sha256/,
    ],
    [
      "a manifest that is not JSON",
      (d: string) => writeFileSync(join(d, "padt.json"), "{"),
      ErrorCode.BUNDLE_INVALID,
      /not valid JSON/,
    ],
    [
      "a manifest of the older format version 1 (separate embed graph)",
      (d: string) => {
        const m = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
        writeFileSync(join(d, "padt.json"), JSON.stringify({ ...m, format_version: 1 }));
      },
      ErrorCode.BUNDLE_INVALID,
      /format_version: expected 5 \(re-export older bundles .*padt\.export\.refresh/,
    ],
    [
      "a manifest of format version 2 (one sequence per LLM call)",
      (d: string) => {
        const m = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
        writeFileSync(join(d, "padt.json"), JSON.stringify({ ...m, format_version: 2 }));
      },
      ErrorCode.BUNDLE_INVALID,
      /format_version: expected 5 \(re-export older bundles .*padt\.export\.refresh/,
    ],
    [
      "a manifest of format version 3 (vision windows as a block mask)",
      (d: string) => {
        const m = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
        writeFileSync(join(d, "padt.json"), JSON.stringify({ ...m, format_version: 3 }));
      },
      ErrorCode.BUNDLE_INVALID,
      /format_version: expected 5 \(re-export older bundles .*padt\.export\.refresh/,
    ],
    [
      "a manifest of format version 4 (per-sequence prototype ids, appended gathered from present)",
      (d: string) => {
        const m = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
        writeFileSync(join(d, "padt.json"), JSON.stringify({ ...m, format_version: 4 }));
      },
      ErrorCode.BUNDLE_INVALID,
      /format_version: expected 5 \(re-export older bundles .*padt\.export\.refresh/,
    ],
    [
      "a manifest naming a file outside the bundle",
      (d: string) => {
        const m = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
        m.files.push({ path: "../../etc/passwd", sha256: "0".repeat(64), bytes: 1 });
        writeFileSync(join(d, "padt.json"), JSON.stringify(m));
      },
      ErrorCode.BUNDLE_INVALID,
      /outside the bundle/,
    ],
  ])("refuses %s with a typed error", async (name, spoil, code, message) => {
    await expect(loadManifest(spoiled(name.replaceAll(" ", "-"), spoil))).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it("checks only sizes when asked, so huge bundles load fast", async () => {
    const dir = spoiled("same-size", (d) => {
      const path = join(d, "prototypes.onnx");
      const bytes = readFileSync(path);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
      writeFileSync(path, bytes);
    });
    await expect(loadManifest(dir, "size")).resolves.toBeDefined();
    await expect(loadManifest(dir, "full")).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
    });
    // By default a small bundle is hashed.
    await expect(loadManifest(dir)).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
    });
  });

  it("by default checks a bundle over 1 GiB by size only", async () => {
    // A sparse 1.1 GiB file whose listed hash is wrong: "auto" does not read it, "full" does.
    const huge = 1200 * 1024 ** 2;
    const dir = spoiled("huge", (d) => {
      const path = join(d, "huge.bin");
      writeFileSync(path, "");
      truncateSync(path, huge);
      const manifest = JSON.parse(readFileSync(join(d, "padt.json"), "utf8"));
      manifest.files.push({ path: "huge.bin", sha256: "0".repeat(64), bytes: huge });
      writeFileSync(join(d, "padt.json"), JSON.stringify(manifest));
    });
    await expect(loadManifest(dir)).resolves.toBeDefined();
    await expect(loadManifest(dir, "full")).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
      message: expect.stringContaining("huge.bin"),
    });
  });
});
