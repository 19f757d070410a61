/** Loads the golden files written by tools/scripts/make_preprocess_fixtures.py. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface TensorSummary {
  shape: number[];
  sha256: string;
  sum: number;
  first: number[];
  middleRow: number;
  middle: number[];
  lastTail: number[];
}

export interface FixtureImage {
  file: string;
  bytes: number;
  width: number;
  height: number;
  decoded: TensorSummary;
  resize: (TensorSummary & { width: number; height: number; filter: "bicubic" | "lanczos" })[];
  preprocess: (TensorSummary & {
    longSide: number | null;
    preResized: [number, number];
    resized: [number, number];
    gridThw: [number, number, number];
  })[];
}

const DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));

export const fixtures: { images: FixtureImage[] } = JSON.parse(
  readFileSync(`${DIR}preprocess.json`, "utf8"),
);

export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(`${DIR}images/${file}`));
}

export function sha256(data: Uint8Array | Float32Array): string {
  return createHash("sha256")
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest("hex");
}

/** The same summary as the Python script's, for rows of `rowLength` values. */
export function summarise(data: Uint8Array | Float32Array, rowLength: number) {
  const rows = data.length / rowLength;
  const mid = Math.floor(rows / 2);
  let sum = 0;
  for (const v of data) sum += v;
  return {
    sha256: sha256(data),
    sum,
    first: Array.from(data.subarray(0, 12)),
    middle: Array.from(data.subarray(mid * rowLength, mid * rowLength + 12)),
    lastTail: Array.from(data.subarray(data.length - 12)),
  };
}
