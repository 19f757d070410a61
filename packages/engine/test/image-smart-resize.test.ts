import { ErrorCode, isPadtError } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { QWEN2_5_VL_IMAGE_PROCESSOR as PROCESSOR } from "../src/models/padt/image_processing.js";
import { qwenVlUtilsSmartResize } from "../src/models/padt/pre_resize.js";
import { pythonRound } from "../src/models/padt/python_math.js";
import { smartResize } from "../src/models/padt/smart_resize.js";
import { fixtures } from "./image-fixtures.js";

const table = (
  fixtures as unknown as {
    smartResize: {
      height: number;
      width: number;
      transformers: number[] | null;
      qwenVlUtils: number[] | null;
    }[];
  }
).smartResize;

function attempt(fn: () => [number, number]): number[] | null {
  try {
    return fn();
  } catch (error) {
    if (isPadtError(error, ErrorCode.IMAGE_SHAPE_UNSUPPORTED)) return null;
    throw error;
  }
}

describe("pythonRound", () => {
  it("rounds half to even like Python 3", () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, -0.5, -1.5, 37.5].map(pythonRound)).toEqual([
      0, 2, 2, 4, 4, 0, -2, 38,
    ]);
    expect([2.4999999999999996, 2.5000000000000004, 70 / 28, 126 / 28].map(pythonRound)).toEqual([
      2, 3, 2, 4,
    ]);
  });
});

describe("smartResize matches Python", () => {
  for (const row of table) {
    it(`${row.height}x${row.width}`, () => {
      expect(attempt(() => smartResize(row.height, row.width, PROCESSOR))).toEqual(
        row.transformers,
      );
      expect(attempt(() => qwenVlUtilsSmartResize(row.height, row.width))).toEqual(row.qwenVlUtils);
    });
  }

  it("differs from Math.round on exact halves (70 / 28 = 2.5 -> 56, not 84)", () => {
    expect(smartResize(70, 1000, PROCESSOR)[0]).toBe(56);
    expect(smartResize(126, 1000, PROCESSOR)[0]).toBe(112);
  });
});
