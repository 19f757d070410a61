/**
 * trimHistory (issue 14.6): a conversation longer than the context keeps its most recent turns
 * that fit, from a user turn on, instead of failing PROMPT_TOO_LONG; images of dropped turns
 * and references to them go too, and a `trimmed` event says so first. Real onnxruntime on the
 * tiny random bundle, with a small context so that a few turns overflow it.
 */

import { readFile } from "node:fs/promises";
import type { ChatTurn, GenerationEvent } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PadtEngine } from "../src/engine/index.js";
import { fitContext, lastQuestion } from "../src/generation/fit_context.js";
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

// A model trained on one question per image (the Shapes bundle's `capabilities.multi_turn` is
// false) is sent the last question alone, with the latest image when the question has none.
describe("lastQuestion", () => {
  it("keeps the system turns and the last question with its own image", () => {
    const system: ChatTurn = { role: "system", content: [{ type: "text", text: "Be brief." }] };
    const fit = lastQuestion([
      system,
      ...conversation(2, [
        { type: "image", data: picture(9) },
        { type: "text", text: "And this one?" },
      ]),
    ]);
    expect(fit.droppedTurns).toBe(4);
    expect(fit.images).toEqual([2]);
    expect(fit.turns.map((t) => t.role)).toEqual(["system", "user"]);
    expect(fit.turns[1]?.content.map((p) => p.type)).toEqual(["image", "text"]);
  });

  it("carries the latest image into a follow-up that has none, with references to it", () => {
    const fit = lastQuestion(
      conversation(3, [
        { type: "visual-ref", image: 1, patches: [3] },
        { type: "visual-ref", image: 2, patches: [5] },
        { type: "text", text: "and the one next to it?" },
      ]),
    );
    expect(fit.droppedTurns).toBe(6);
    expect(fit.images).toEqual([2]);
    expect(fit.droppedRefs).toBe(1);
    const content = fit.turns.at(-1)?.content ?? [];
    expect(content[0]).toEqual({ type: "image", data: picture(2) });
    expect(content.slice(1)).toEqual([
      { type: "visual-ref", image: 0, patches: [5] },
      { type: "text", text: "and the one next to it?" },
    ]);
  });

  it("leaves a single question as it is", () => {
    const turns = conversation(0, [
      { type: "image", data: picture(1) },
      { type: "text", text: "Where?" },
    ]);
    expect(lastQuestion(turns)).toEqual({ turns, images: [0], droppedTurns: 0, droppedRefs: 0 });
  });
});

describe("a single-turn model in a chat", () => {
  const shapes = new URL("../../../models/padt-tiny-shapes", import.meta.url).pathname;
  const images = new URL("../../../tests/fixtures/padt-tiny-shapes.images/", import.meta.url);
  let shapesEngine: PadtEngine;
  beforeAll(async () => {
    shapesEngine = await PadtEngine.load({ bundle: shapes, threads: 1 });
  });
  afterAll(() => shapesEngine?.close());

  it("answers a later question as it answers that question alone, and says what it left out", async () => {
    const image = new Uint8Array(await readFile(new URL("shapes_rec_3_0.png", images)));
    const triangles = new Uint8Array(await readFile(new URL("shapes_ovd_6_0.png", images)));
    const question: ChatTurn = {
      role: "user",
      content: [
        { type: "image", data: image },
        {
          type: "text",
          text: 'Please carefully check the image and detect the object this sentence describes: "the large yellow star".',
        },
      ],
    };
    const alone = await collect(shapesEngine.generate([question], { maxNewTokens: 48 }));
    expect(alone.some((e) => e.type === "trimmed")).toBe(false);
    const chat = await collect(
      shapesEngine.generate(
        [
          {
            role: "user",
            content: [
              { type: "image", data: triangles },
              {
                type: "text",
                text: 'Please carefully check the image and detect the following objects: ["triangle"].',
              },
            ],
          },
          { role: "assistant", content: [{ type: "text", text: "In this image." }] },
          question,
        ],
        { maxNewTokens: 48 },
      ),
    );
    expect(chat[0]).toEqual({ type: "trimmed", droppedTurns: 2, droppedImages: 1, droppedRefs: 0 });
    const answer = (events: GenerationEvent[], image: number) =>
      events.flatMap((e): (string | number)[] => {
        if (e.type === "text") return [e.text];
        if (e.type !== "vrt") return [];
        // Events name images by their place in the conversation sent.
        expect(e.image).toBe(image);
        return [e.patch];
      });
    const expected = answer(alone, 0);
    expect(expected.filter((x) => typeof x === "number").length).toBeGreaterThan(0);
    expect(answer(chat.slice(1), 1)).toEqual(expected);
  });
});
