/**
 * `prepackWeights: false` (`padt serve --weights mapped`): onnxruntime leaves the MatMul
 * weights where the weights file is memory-mapped instead of repacking them at load. The
 * answer must not change: same ids, boxes and masks as the default session, real onnxruntime
 * on the tiny random bundle.
 */
import { readFile } from "node:fs/promises";
import type { ChatTurn } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ortSessionOptions } from "../src/backend/ort.js";
import { PadtEngine } from "../src/engine/index.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const images = new URL("../../../tests/fixtures/padt-tiny-random.images/", import.meta.url);

let packed: PadtEngine;
let mapped: PadtEngine;
beforeAll(async () => {
  [packed, mapped] = await Promise.all([
    PadtEngine.load({ bundle, threads: 1 }),
    PadtEngine.load({ bundle, threads: 1, prepackWeights: false }),
  ]);
});
afterAll(async () => {
  await packed?.close();
  await mapped?.close();
});

describe("weights left memory-mapped", () => {
  it("asks onnxruntime not to repack them, and only when told", () => {
    expect(ortSessionOptions("cpu", { prepackWeights: false }).extra).toMatchObject({
      session: { disable_prepacking: "1" },
    });
    expect(ortSessionOptions("cpu", {}).extra).not.toHaveProperty("session.disable_prepacking");
  });

  it("gives the answer the repacked weights give", async () => {
    const turns: ChatTurn[] = [
      {
        role: "user",
        content: [
          {
            type: "image",
            data: new Uint8Array(await readFile(new URL("ovd_448x336_0.png", images))),
          },
          { type: "text", text: 'Please detect "red circle, blue square" in this image.' },
        ],
      },
    ];
    const [a, b] = await Promise.all([
      packed.run(turns, { maxNewTokens: 32 }),
      mapped.run(turns, { maxNewTokens: 32 }),
    ]);
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(b.objects.length).toBe(a.objects.length);
    expect(a.objects.length).toBeGreaterThan(0);
    b.objects.forEach((o, i) => {
      const box = a.objects[i]?.box;
      for (const k of ["x", "y", "width", "height"] as const)
        expect(o.box[k]).toBeCloseTo(box?.[k] ?? Number.NaN, 4);
    });
  });
});
