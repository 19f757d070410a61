import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import { PadtError, PadtErrorCode } from "../errors.js";
import { manifestSchema, type PadtManifest } from "./manifest.js";

/** How much of each file to check at load: sizes always; `full` also hashes every byte. */
export type BundleVerification = "full" | "size";

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Reads and validates padt.json, then checks every listed file against its size and sha256. */
export async function loadManifest(
  dir: string,
  verify: BundleVerification = "full",
): Promise<PadtManifest> {
  const path = join(dir, "padt.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    throw new PadtError(
      missing ? PadtErrorCode.BUNDLE_FILE_MISSING : PadtErrorCode.BUNDLE_INVALID,
      missing ? `${dir} is not a PaDT bundle: it has no padt.json` : `${path} is not valid JSON`,
      { path },
      { cause },
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new PadtError(
      PadtErrorCode.BUNDLE_INVALID,
      `${path} is not a valid manifest: ${problems.join("; ")}`,
      {
        problems,
      },
    );
  }
  const manifest = parsed.data;
  await Promise.all(manifest.files.map((file) => checkFile(dir, file, verify)));
  for (const graph of Object.values(manifest.graphs)) {
    if (!manifest.files.some((f) => f.path === graph.file)) {
      throw new PadtError(
        PadtErrorCode.BUNDLE_INVALID,
        `graph file ${graph.file} is not in the manifest's file list`,
      );
    }
  }
  return manifest;
}

async function checkFile(
  dir: string,
  file: PadtManifest["files"][number],
  verify: BundleVerification,
) {
  // A manifest is data: it may not point outside its bundle.
  if (isAbsolute(file.path) || normalize(file.path).startsWith("..")) {
    throw new PadtError(PadtErrorCode.BUNDLE_INVALID, `file ${file.path} is outside the bundle`);
  }
  const path = join(dir, file.path);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new PadtError(
      PadtErrorCode.BUNDLE_FILE_MISSING,
      `${file.path} is missing from the bundle`,
      { path },
      { cause },
    );
  }
  if (size !== file.bytes) {
    throw new PadtError(
      PadtErrorCode.BUNDLE_CHECKSUM_MISMATCH,
      `${file.path} has ${size} bytes, the manifest says ${file.bytes} (truncated or replaced)`,
      { path, bytes: size, expected: file.bytes },
    );
  }
  if (verify === "full") {
    const sha256 = await sha256File(path);
    if (sha256 !== file.sha256) {
      throw new PadtError(
        PadtErrorCode.BUNDLE_CHECKSUM_MISMATCH,
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
