import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  bboxIou,
  bboxPairIou,
  countsFromString,
  countsToString,
  type Rle,
  rleArea,
  rleDecode,
  rleDecodeRowMajor,
  rleEncode,
  rleEncodeRowMajor,
  rleFromBbox,
  rleFromCoco,
  rleFromMask,
  rleFromPolygon,
  rleIou,
  rleMerge,
  rleToBbox,
  rleToCoco,
  rleToMask,
} from "../src/index.js";

interface MaskCase {
  height: number;
  width: number;
  bits?: string;
  counts: number[];
  string: string;
  area: number;
  bbox: number[];
}
interface Fixture {
  masks: MaskCase[];
  countsOnly: MaskCase[];
  pairs: { a: number; b: number; iou: number[][]; union: string; intersection: string }[];
  merges: { masks: number[]; union: string; intersection: string }[];
  boxIou: { dt: number[][]; gt: number[][]; iscrowd: number[]; iou: number[][] };
  polygons: {
    height: number;
    width: number;
    polygons: number[][];
    parts: string[];
    string: string;
  }[];
  boxes: { height: number; width: number; bbox: number[]; string: string }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/rle.json", import.meta.url), "utf8"),
) as Fixture;

/** Column-major 0/1 pixels from the fixture's packed bits (np.packbits, zlib, base64). */
function unpack(c: MaskCase): Uint8Array {
  const bytes = inflateSync(Buffer.from(c.bits!, "base64"));
  const out = new Uint8Array(c.height * c.width);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return out;
}

function transpose(colMajor: Uint8Array, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) out[y * w + x] = colMajor[x * h + y]!;
  return out;
}

const masks = fixture.masks.map((c) => ({ c, pixels: unpack(c) }));
const rleOf = (i: number): Rle =>
  rleEncode(masks[i]!.pixels, masks[i]!.c.height, masks[i]!.c.width);

describe("COCO RLE equals pycocotools 2.0.8", () => {
  it(`encodes, compresses, measures and decodes ${masks.length} masks identically`, () => {
    for (const { c, pixels } of masks) {
      const rle = rleEncode(pixels, c.height, c.width);
      expect(rle.counts).toEqual(c.counts);
      expect(rleToCoco(rle)).toEqual({ size: [c.height, c.width], counts: c.string });
      expect(countsFromString(c.string)).toEqual(c.counts);
      expect(rleArea(rle)).toBe(c.area);
      expect(rleToBbox(rle)).toEqual(c.bbox);
      // Buffer.equals: vitest's deep equality is slow on 480,000-pixel arrays.
      expect(Buffer.from(rleDecode(rle)).equals(pixels)).toBe(true);
      const rowMajor = transpose(pixels, c.height, c.width);
      expect(rleEncodeRowMajor(rowMajor, c.height, c.width).counts).toEqual(c.counts);
      expect(Buffer.from(rleDecodeRowMajor(rle)).equals(rowMajor)).toBe(true);
    }
  });

  it(`handles ${fixture.countsOnly.length} large-run RLEs (negative deltas, long strings)`, () => {
    for (const c of fixture.countsOnly) {
      expect(countsToString(c.counts)).toBe(c.string);
      const rle = rleFromCoco({ size: [c.height, c.width], counts: c.string });
      expect(rle.counts).toEqual(c.counts);
      expect(rleArea(rle)).toBe(c.area);
      expect(rleToBbox(rle)).toEqual(c.bbox);
    }
  });

  it(`gives the same mask IoU (plain and crowd) and merges for ${fixture.pairs.length} pairs`, () => {
    for (const p of fixture.pairs) {
      const a = rleOf(p.a);
      const b = rleOf(p.b);
      const iou = rleIou([a, b], [b, a], [false, true]);
      for (const [i, row] of iou.entries()) {
        for (const [j, v] of row.entries()) expect(v).toBeCloseTo(p.iou[i]![j]!, 15);
      }
      expect(countsToString(rleMerge([a, b]).counts)).toBe(p.union);
      expect(countsToString(rleMerge([a, b], true).counts)).toBe(p.intersection);
    }
  });

  it(`merges ${fixture.merges.length} groups of same-size masks`, () => {
    for (const m of fixture.merges) {
      const rles = m.masks.map(rleOf);
      expect(countsToString(rleMerge(rles).counts)).toBe(m.union);
      expect(countsToString(rleMerge(rles, true).counts)).toBe(m.intersection);
    }
  });

  it("gives the same box IoU with crowd flags", () => {
    const { dt, gt, iscrowd, iou } = fixture.boxIou;
    const ours = bboxIou(
      dt as [number, number, number, number][],
      gt as [number, number, number, number][],
      iscrowd.map(Boolean),
    );
    for (const [i, row] of ours.entries()) {
      for (const [j, v] of row.entries()) expect(v).toBeCloseTo(iou[i]![j]!, 15);
    }
  });

  it("gives 0 box IoU for touching, empty and NaN boxes", () => {
    expect(bboxPairIou([0, 0, 2, 2], [2, 0, 2, 2])).toBe(0);
    expect(bboxPairIou([1, 1, 0, 0], [1, 1, 0, 0])).toBe(0);
    expect(bboxPairIou([0, 0, Number.NaN, 2], [0, 0, 2, 2])).toBe(0);
    expect(bboxPairIou([0, 0, 2, 2], [1, 0, 2, 2])).toBeCloseTo(2 / 6, 15);
    expect(bboxPairIou([0, 0, 2, 2], [1, 0, 2, 2], true)).toBe(0.5);
  });

  it(`rasterises ${fixture.polygons.length} polygons (parts and merged) as frPyObjects`, () => {
    for (const c of fixture.polygons) {
      const parts = c.polygons.map((p) => rleFromPolygon(p, c.height, c.width));
      expect(parts.map((p) => countsToString(p.counts))).toEqual(c.parts);
      expect(countsToString(rleMerge(parts).counts)).toBe(c.string);
    }
  });

  it(`rasterises ${fixture.boxes.length} boxes as frBbox`, () => {
    for (const c of fixture.boxes) {
      const bbox = c.bbox as [number, number, number, number];
      expect(countsToString(rleFromBbox(bbox, c.height, c.width).counts)).toBe(c.string);
    }
  });
});

describe("RLE helpers", () => {
  it("starts with a zero count when the first pixel is set", () => {
    expect(rleEncode([1, 1, 0, 1], 2, 2).counts).toEqual([0, 2, 1, 1]);
  });

  it("round-trips through the engine's RleMask", () => {
    const rle = rleOf(masks.length - 1);
    const mask = rleToMask(rle);
    expect(mask.area).toBe(rleArea(rle));
    expect(rleFromMask(mask)).toEqual(rle);
  });

  it("decodes an RleMask back to the row-major pixels it was made from (the playground's path)", () => {
    const [height, width] = [37, 53];
    let seed = 7;
    const pixels = Uint8Array.from({ length: height * width }, (_, i) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // Blobs with long runs (large counts exercise the multi-char and delta encodings) and noise.
      return (i % width > 10 && i % width < 40 && i > 300) || seed % 17 === 0 ? 1 : 0;
    });
    const cases = [pixels, new Uint8Array(height * width), new Uint8Array(height * width).fill(1)];
    for (const m of cases) {
      const { counts } = rleToMask(rleEncodeRowMajor(m, height, width));
      expect(rleDecodeRowMajor(rleFromMask({ height, width, counts }))).toEqual(m);
    }
  });

  it("rejects a mask of the wrong length and malformed strings", () => {
    expect(() => rleEncode([1, 0, 1], 2, 2)).toThrow(RangeError);
    expect(() => countsFromString("1\u0001")).toThrow(SyntaxError);
    expect(() => countsFromString("a")).toThrow(SyntaxError); // a continuation with no end
    expect(() => rleDecode({ height: 2, width: 2, counts: [1, 9] })).toThrow(RangeError);
  });

  it("gives -1 for masks of different sizes whose boxes overlap, as pycocotools", () => {
    const a = rleEncode([1, 1, 1, 1], 2, 2);
    const b = rleEncode([1, 1, 1, 1, 1, 1], 3, 2);
    expect(rleIou([a], [b])).toEqual([[-1]]);
    expect(rleMerge([a, b])).toEqual({ height: 0, width: 0, counts: [] });
  });
});
