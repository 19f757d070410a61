import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boxToPixels, maskFromLogits } from "../src/models/padt/postprocess.js";

interface Case {
  map: [number, number];
  valid: [number, number];
  out: [number, number];
  logits: number[];
  counts: number[];
  area: number;
}
const { cases } = JSON.parse(
  readFileSync(new URL("./fixtures/postprocess.json", import.meta.url), "utf8"),
) as { cases: Case[] };

function runs(mask: Uint8Array): number[] {
  const counts: number[] = [];
  let current = 0;
  let length = 0;
  for (const v of mask) {
    if (v !== current) {
      counts.push(length);
      current = v;
      length = 0;
    }
    length++;
  }
  counts.push(length);
  return counts;
}

describe("mask post-processing (torch bilinear, align_corners=False, then logit > 0)", () => {
  it.each(
    cases.map(
      (c) => [`${c.valid.join("x")} of ${c.map.join("x")} -> ${c.out.join("x")}`, c] as const,
    ),
  )("matches torch for %s", (_, c) => {
    const mask = maskFromLogits(
      new Float32Array(c.logits),
      { rows: c.map[0], cols: c.map[1] },
      { rows: c.valid[0], cols: c.valid[1] },
      { height: c.out[0], width: c.out[1] },
    );
    expect(mask.reduce((a, b) => a + b, 0)).toBe(c.area);
    expect(runs(mask)).toEqual(c.counts);
  });
});

describe("boxToPixels", () => {
  it("scales (cx, cy, w, h) to the original image", () => {
    expect(boxToPixels([0.5, 0.5, 0.2, 0.4], 200, 100)).toEqual({
      x: 80,
      y: 30,
      width: 40,
      height: 40,
    });
  });

  it("clamps as the reference evaluation does: x, y >= 0 and w, h <= 1", () => {
    const box = boxToPixels([0.05, 0.1, 1.3, 0.4], 100, 50);
    expect(box).toEqual({ x: 0, y: 0, width: 100, height: 20 });
  });
});
