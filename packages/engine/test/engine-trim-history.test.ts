/**
 * trimHistory (issue 14.6): a conversation longer than the context keeps its most recent turns
 * that fit, from a user turn on, instead of failing PROMPT_TOO_LONG; images of dropped turns
 * and references to them go too, and a `trimmed` event says so first. Real onnxruntime on the
 * tiny random bundle, with a small context so that a few turns overflow it.
 */

import type { ChatTurn, GenerationEvent } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PadtEngine } from "../src/engine/index.js";
import { fitContext } from "../src/generation/fit_context.js";
import { encodePng } from "./image-png.js";

const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const picture = (seed: number) =>
  encodePng({
    width: 112,
    height: 112,
    bitDepth: 8,
    colourType: 2,
    row: (y) => Uint8Array.from({ length: 112 * 3 }, (_, i) => (i * 7 + y * 3 + seed) & 0xff),
  });

/** `n` REC-like exchanges (image and question, then an answer), then a new question. */
function conversation(n: number, last: ChatTurn["content"]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  for (let i = 0; i < n; i++) {
    turns.push({
      role: "user",
      content: [
        { type: "image", data: picture(i) },
        { type: "text", text: `Where is the red circle number ${i}?` },
      ],
    });
    turns.push({ role: "assistant", content: [{ type: "text", text: "It is at the top left." }] });
  }
  turns.push({ role: "user", content: last });
  return turns;
}

async function collect(events: AsyncIterable<GenerationEvent>) {
  const out: GenerationEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

let engine: PadtEngine;
beforeAll(async () => {
  // No demo pre-resize: a 112 px image is 16 tokens, so 12 exchanges overflow 400 tokens.
  engine = await PadtEngine.load({ bundle, threads: 1, longSide: null, maxContextTokens: 400 });
});
afterAll(() => engine?.close());

describe("trimHistory", () => {
  const question: ChatTurn["content"] = [
    { type: "image", data: picture(99) },
    { type: "text", text: "And now?" },
  ];

  it("without it a long session fails PROMPT_TOO_LONG; with it, the answer completes", async () => {
    const turns = conversation(12, question);
    await expect(collect(engine.generate(turns, { maxNewTokens: 4 }))).rejects.toMatchObject({
      code: "PROMPT_TOO_LONG",
    });
    const events = await collect(engine.generate(turns, { maxNewTokens: 4, trimHistory: true }));
    const first = events[0];
    expect(first?.type).toBe("trimmed");
    if (first?.type !== "trimmed") return;
    // Whole exchanges go, each with its image; the new question and its image stay.
    expect(first.droppedTurns % 2).toBe(0);
    expect(first.droppedTurns).toBeGreaterThan(0);
    expect(first.droppedTurns).toBeLessThan(24);
    expect(first.droppedImages).toBe(first.droppedTurns / 2);
    const done = events.at(-1);
    expect(done?.type).toBe("done");
    if (done?.type === "done") expect(done.usage.promptTokens + 4).toBeLessThanOrEqual(400);
    // Keeping one more exchange would not have fitted: the trim is the smallest that works.
    const kept = conversation(12, question).slice(first.droppedTurns - 2);
    await expect(collect(engine.generate(kept, { maxNewTokens: 4 }))).rejects.toMatchObject({
      code: "PROMPT_TOO_LONG",
    });
  });

  it("a session that fits is sent whole, with no trimmed event", async () => {
    const events = await collect(
      engine.generate(conversation(2, question), { maxNewTokens: 4, trimHistory: true }),
    );
    expect(events.some((e) => e.type === "trimmed")).toBe(false);
  });

  it("drops references to dropped images and renumbers the rest", () => {
    const turns = conversation(3, [
      { type: "visual-ref", image: 0, patches: [1] },
      { type: "visual-ref", image: 2, patches: [0] },
      { type: "text", text: "these two?" },
    ]);
    // Room for the last two exchanges only.
    const fit = fitContext(turns, (c) => c.turns.length <= 5);
    expect(fit.droppedTurns).toBe(2);
    expect(fit.images).toEqual([1, 2]);
    expect(fit.droppedRefs).toBe(1);
    expect(fit.turns.at(-1)?.content[0]).toEqual({ type: "visual-ref", image: 1, patches: [0] });
  });
});
