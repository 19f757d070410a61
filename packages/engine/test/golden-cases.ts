/**
 * The exporter's goldens (tests/fixtures/<bundle>.golden.json) as test inputs and as the
 * expected answer: a case's conversation, and the check that an engine result is the golden's
 * (identical greedy ids, boxes within 1e-4 of the image size, scores 1e-4, mask IoU >= 0.999).
 */
import { readFileSync } from "node:fs";
import { rleFromCoco, rleFromMask, rleIou } from "@padt/mask";
import type { ChatTurn, GenerationResult } from "@padt/protocol";
import { expect } from "vitest";

export const fixtures = new URL("../../../tests/fixtures/", import.meta.url).pathname;
export const models = new URL("../../../models/", import.meta.url).pathname;

export interface GoldenObject {
  label: string;
  patches: number[];
  box_xywh: [number, number, number, number];
  score: number;
  mask_rle: { size: [number, number]; counts: string };
}

export interface GoldenCase {
  name: string;
  prompt: string;
  long_side: number | null;
  /** The preprocessed pixels of all images: their shape and the sha256 of their float32 bytes. */
  pixel_values: { shape: [number, number]; sha256: string };
  images: {
    original_size: [number, number];
    grid_thw: [number, number, number];
    window_index: number[];
  }[];
  input_ids: number[];
  position_ids: number[][];
  rope_delta: number;
  generated_ids: number[];
  objects: GoldenObject[];
  /** Request overrides of the bundle's generation settings (manifest names). */
  generation?: { repetition_penalty?: number };
  /** The bundle's first-VRT rule for this case, when not the bundle's own. */
  first_vrt_features?: "last_prompt_row" | "all_prompt_rows";
}

export interface Golden {
  name: string;
  max_new_tokens: number;
  cases: GoldenCase[];
}

export function loadGolden(name: string): Golden {
  const golden = JSON.parse(readFileSync(`${fixtures}${name}.golden.json`, "utf8")) as Golden;
  return { ...golden, name };
}

export function imagesOf(golden: Golden, c: GoldenCase): Uint8Array[] {
  return c.images.map(
    (_, k) => new Uint8Array(readFileSync(`${fixtures}${golden.name}.images/${c.name}_${k}.png`)),
  );
}

export function turnsOf(golden: Golden, c: GoldenCase): ChatTurn[] {
  return [
    {
      role: "user",
      content: [
        ...imagesOf(golden, c).map((data) => ({ type: "image" as const, data })),
        { type: "text", text: c.prompt },
      ],
    },
  ];
}

/** The request options the golden ran with. */
export function optionsOf(golden: Golden, c: GoldenCase) {
  const penalty = c.generation?.repetition_penalty;
  return {
    maxNewTokens: golden.max_new_tokens,
    ...(penalty !== undefined ? { repetitionPenalty: penalty } : {}),
  };
}

export function expectGoldenAnswer(
  result: Pick<GenerationResult, "tokenIds" | "finishReason" | "objects">,
  c: GoldenCase,
): void {
  const stop = result.finishReason === "stop" ? c.generated_ids.slice(-1) : [];
  expect([...result.tokenIds, ...stop], c.name).toEqual(c.generated_ids);
  expect(result.objects).toHaveLength(c.objects.length);
  for (const [i, want] of c.objects.entries()) {
    const got = result.objects[i];
    if (!got) throw new Error(`${c.name}: object ${i} missing`);
    expect(got.patches).toEqual(want.patches);
    expect(got.label).toBe(want.label);
    const [w, h] = c.images.at(-1)?.original_size ?? [0, 0];
    const box = [got.box.x, got.box.y, got.box.width, got.box.height];
    // Goldens round pixels to 4 decimals; 1e-4 of the image size is the contract.
    for (const [k, v] of box.entries()) {
      expect(Math.abs(v - (want.box_xywh[k] as number))).toBeLessThan(1e-4 * Math.max(w, h) + 1e-4);
    }
    expect(Math.abs(got.score - want.score)).toBeLessThan(1e-4);
    const iou = rleIou([rleFromMask(got.mask)], [rleFromCoco(want.mask_rle)])[0]?.[0];
    expect(iou).toBeGreaterThanOrEqual(0.999);
  }
}
