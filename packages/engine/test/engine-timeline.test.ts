import { readFileSync } from "node:fs";
import type { GenerationEvent } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PadtEngine } from "../src/engine/index.js";

// The done event's timeline is what the gateway turns into trace spans (prefill, decode, each
// decoder call): measured in the worker thread, it must be on the wall clock of the caller and
// agree with the usage the engine reports.
const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const image = readFileSync(new URL("./fixtures/images/rgb_448x336.jpg", import.meta.url));

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle, threads: 1 });
});
afterAll(() => engine?.close());

describe("the engine's timeline", () => {
  it("places prefill, decode and every decoder call on the wall clock, matching usage", async () => {
    const before = Date.now();
    const events: GenerationEvent[] = [];
    for await (const e of engine.generate(
      [
        {
          role: "user",
          content: [
            { type: "image", data: image },
            { type: "text", text: 'Please detect "the red circle".' },
          ],
        },
      ],
      { maxNewTokens: 24 },
    ))
      events.push(e);
    const after = Date.now();
    const done = events.at(-1);
    if (done?.type !== "done") throw new Error(`no done event: ${JSON.stringify(done)}`);
    const { timeline, usage } = done;
    if (!timeline) throw new Error("the done event has no timeline");
    const { prefill, decode, decoder } = timeline;
    // Date.now() has whole milliseconds; the timeline has fractions of one.
    expect(prefill.start).toBeGreaterThanOrEqual(before - 1);
    expect(prefill.end).toBeGreaterThanOrEqual(prefill.start);
    expect(decode.start).toBeGreaterThanOrEqual(prefill.end);
    expect(decode.end).toBeGreaterThanOrEqual(decode.start);
    expect(decode.end).toBeLessThanOrEqual(after + 1);
    expect(prefill.end - prefill.start).toBeCloseTo(usage.prefillMs, 2);
    const objects = events.flatMap((e) => (e.type === "object" ? [e.object.index] : []));
    expect(decoder.map((d) => d.object)).toEqual(objects);
    for (const d of decoder) {
      expect(d.start).toBeGreaterThanOrEqual(decode.start);
      expect(d.end).toBeGreaterThanOrEqual(d.start);
      expect(d.end).toBeLessThanOrEqual(decode.end);
    }
    const inDecoder = decoder.reduce((sum, d) => sum + (d.end - d.start), 0);
    expect(inDecoder).toBeCloseTo(usage.decoderMs, 2);
    expect(decode.end - decode.start - inDecoder).toBeCloseTo(usage.decodeMs, 2);
  });
});
