/** Loads the golden file written by tools/scripts/make_grid_fixtures.py (transformers 4.50.3). */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** An int array: in full for small grids, else sha256 of int32 LE bytes plus head and tail. */
export interface IntArray {
  length: number;
  sha256: string;
  values?: number[];
  head?: number[];
  tail?: number[];
}

export interface VisionCase {
  grids: [number, number][];
  patches: number;
  windowIndex: IntArray;
  reverseIndex: IntArray;
  cuWindowSeqlensRaw: number[];
  cuWindowSeqlens: number[];
  cuSeqlens: number[];
  rotaryPositions: IntArray;
  cosSinRows: number[];
  cos: number[][];
  sin: number[][];
}

export interface RopeCase {
  grids: [number, number][];
  inputIds: IntArray;
  positionIds: [number[], number[], number[]];
  ropeDelta: number;
  decodeLengths: number[];
  cosSinPositions?: [number[], number[], number[]];
  cos?: number[][];
  sin?: number[][];
}

export interface GridFixture {
  vision: {
    patchSize: number;
    spatialMergeSize: number;
    windowSize: number;
    headDim: number;
    theta: number;
    cases: VisionCase[];
  };
  llm: {
    headDim: number;
    theta: number;
    mropeSection: number[];
    imagePadId: number;
    visionStartId: number;
    cases: Record<string, RopeCase>;
  };
}

export const gridFixture = JSON.parse(
  readFileSync(new URL("./fixtures/grid.json", import.meta.url), "utf8"),
) as GridFixture;

export const geometry = {
  patchSize: gridFixture.vision.patchSize,
  spatialMergeSize: gridFixture.vision.spatialMergeSize,
  windowSize: gridFixture.vision.windowSize,
};

export function gridsOf(c: { grids: [number, number][] }) {
  return c.grids.map(([h, w]) => ({ h, w }));
}

/** Exact equality with a stored int array (values, or digest + slices). */
export function expectInts(got: Int32Array, want: IntArray): void {
  expect(got.length).toBe(want.length);
  if (want.values !== undefined) expect(Array.from(got)).toEqual(want.values);
  if (want.head !== undefined)
    expect(Array.from(got.subarray(0, want.head.length))).toEqual(want.head);
  if (want.tail !== undefined) {
    expect(Array.from(got.subarray(got.length - want.tail.length))).toEqual(want.tail);
  }
  const bytes = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  expect(createHash("sha256").update(bytes).digest("hex")).toBe(want.sha256);
}

/** Largest |got - want| over stored rows of a [rows, width] table. */
export function maxRowDiff(
  table: Float32Array,
  width: number,
  rows: number[],
  want: number[][],
): number {
  let max = 0;
  rows.forEach((row, i) => {
    const expected = want[i]!;
    expect(expected.length).toBe(width);
    for (let d = 0; d < width; d++) {
      max = Math.max(max, Math.abs(table[row * width + d]! - expected[d]!));
    }
  });
  return max;
}
