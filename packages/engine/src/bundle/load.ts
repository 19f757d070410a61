import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import { ErrorCode, PadtError } from "@padt/protocol";
import { manifestSchema, type PadtManifest } from "./manifest.js";

/** How much of each file to check at load: sizes always; `full` also hashes every byte. */
/**
 * "full" hashes every file; "size" compares sizes only; "auto" (the default) hashes bundles up
 * to FULL_VERIFY_MAX_BYTES and checks larger ones by size: hashing a 15 GB 3B bundle took 15 s
 * of a 63 s start, for a check the sizes already make on a copy that did not finish.
 */
export type BundleVerification = "full" | "size" | "auto";

export const FULL_VERIFY_MAX_BYTES = 1024 ** 3;

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Reads and validates padt.json, then checks every listed file against its size (and sha256). */
export async function loadManifest(
  dir: string,
  verification: BundleVerification = "auto",
): Promise<PadtManifest> {
  const path = join(dir, "padt.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    throw new PadtError(
      missing ? ErrorCode.BUNDLE_FILE_MISSING : ErrorCode.BUNDLE_INVALID,
      missing ? `${dir} is not a PaDT bundle: it has no padt.json` : `${path} is not valid JSON`,
      { path },
      { cause },
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new PadtError(
      ErrorCode.BUNDLE_INVALID,
      `${path} is not a valid manifest: ${problems.join("; ")}`,
      {
        problems,
      },
    );
  }
  const manifest = parsed.data;
  const verify =
    verification !== "auto"
      ? verification
      : bundleBytes(manifest) > FULL_VERIFY_MAX_BYTES
        ? "size"
        : "full";
  await Promise.all(manifest.files.map((file) => checkFile(dir, file, verify)));
  for (const graph of Object.values(manifest.graphs)) {
    if (!manifest.files.some((f) => f.path === graph.file)) {
      throw new PadtError(
        ErrorCode.BUNDLE_INVALID,
        `graph file ${graph.file} is not in the manifest's file list`,
      );
    }
  }
  return manifest;
}

/** The bytes of every file the manifest lists. */
export function bundleBytes(manifest: PadtManifest): number {
  return manifest.files.reduce((sum, f) => sum + f.bytes, 0);
}

async function checkFile(
  dir: string,
  file: PadtManifest["files"][number],
  verify: "full" | "size",
) {
  // A manifest is data: it may not point outside its bundle.
  if (isAbsolute(file.path) || normalize(file.path).startsWith("..")) {
    throw new PadtError(ErrorCode.BUNDLE_INVALID, `file ${file.path} is outside the bundle`);
  }
  const path = join(dir, file.path);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new PadtError(
      ErrorCode.BUNDLE_FILE_MISSING,
      `${file.path} is missing from the bundle`,
      { path },
      { cause },
    );
  }
  if (size !== file.bytes) {
    throw new PadtError(
      ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
      `${file.path} has ${size} bytes, the manifest says ${file.bytes} (truncated or replaced)`,
      { path, bytes: size, expected: file.bytes },
    );
  }
  if (verify === "full") {
    const sha256 = await sha256File(path);
    if (sha256 !== file.sha256) {
      throw new PadtError(
        ErrorCode.BUNDLE_CHECKSUM_MISMATCH,
        `${file.path} does not match its sha256`,
        {
          path,
          sha256,
          expected: file.sha256,
        },
      );
    }
  }
}
