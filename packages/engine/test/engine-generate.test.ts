import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ChatTurn, GenerationEvent } from "@padt/protocol";
import { ErrorCode, isPadtError } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PadtEngine } from "../src/engine/index.js";

// A real onnxruntime run of the tiny random bundle the exporter writes (random weights:
// the answers are noise, but every graph, cache and event path is exercised).
const bundle = new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url).pathname;
const image = (name: string) => readFileSync(new URL(`./fixtures/images/${name}`, import.meta.url));
const ask = (img: Uint8Array, text: string): ChatTurn[] => [
  {
    role: "user",
    content: [
      { type: "image", data: img },
      { type: "text", text },
    ],
  },
];

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle, threads: 1, workers: 2, maxQueue: 2 });
});
afterAll(() => engine?.close());

async function collect(events: AsyncIterable<GenerationEvent>) {
  const out: GenerationEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe("PadtEngine on the tiny random bundle", () => {
  it("reports the model and streams text, VRTs and objects, ending with usage", async () => {
    expect(engine.info).toMatchObject({
      name: "padt-tiny-random",
      executionProvider: "cpu",
      dtype: "fp32",
    });
    const result = await engine.run(
      ask(image("rgb_448x336.jpg"), 'Please detect "the red circle".'),
      {
        maxNewTokens: 12,
      },
    );
    expect(result.finishReason).toBe("length");
    expect(result.usage.completionTokens).toBe(12);
    expect(result.usage.promptTokens).toBeGreaterThan(100);
    for (const object of result.objects) {
      expect(object.mask.height).toBe(336);
      expect(object.mask.width).toBe(448);
      expect(object.box.x).toBeGreaterThanOrEqual(0);
      expect(object.score).toBeGreaterThan(0);
      expect(object.score).toBeLessThan(1);
    }
  });

  it("gives the same greedy answer for the same input, and keeps concurrent calls apart", async () => {
    const a = ask(image("rgb_200x150.png"), "Please describe this image.");
    const b = ask(image("rgb_500x333.webp"), "Please describe this image.");
    const [a1, b1, a2] = await Promise.all([
      engine.run(a, { maxNewTokens: 8 }),
      engine.run(b, { maxNewTokens: 8 }),
      engine.run(a, { maxNewTokens: 8 }),
    ]);
    expect(a2.text).toBe(a1.text);
    expect(a2.objects).toEqual(a1.objects);
    // Different images give different prototypes, so their answers are not the same stream.
    expect(JSON.stringify(b1.segments) === JSON.stringify(a1.segments) && b1.text === a1.text).toBe(
      false,
    );
  });

  it("refuses work beyond the queue with QUEUE_FULL, at once", async () => {
    const turns = ask(image("rgb_200x150.png"), "Please describe this image.");
    // Every slot (workers x their batch) busy and the queue full: the next call is refused.
    const { slots, maxQueue } = engine.stats();
    const running = Array.from({ length: slots + maxQueue }, () =>
      collect(engine.generate(turns, { maxNewTokens: 4 })),
    );
    let error: unknown;
    try {
      engine.generate(turns, { maxNewTokens: 4 });
    } catch (e) {
      error = e;
    }
    expect(isPadtError(error, ErrorCode.QUEUE_FULL)).toBe(true);
    await Promise.all(running);
  });

  it("stops between steps when cancelled, ending with finish reason cancelled", async () => {
    const controller = new AbortController();
    const events: GenerationEvent[] = [];
    for await (const e of engine.generate(ask(image("rgb_200x150.png"), "Describe."), {
      maxNewTokens: 200,
      signal: controller.signal,
    })) {
      events.push(e);
      if (events.length === 3) controller.abort();
    }
    const done = events.at(-1);
    expect(done).toMatchObject({ type: "done", finishReason: "cancelled" });
    if (done?.type === "done") expect(done.usage.completionTokens).toBeLessThan(200);
  });

  it("keeps the event loop free while generating", async () => {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    await engine.run(ask(image("rgb_1000x700.jpg"), "Please describe this image."), {
      maxNewTokens: 24,
    });
    histogram.disable();
    // The vision tower and every LLM step run in a worker; only message passing is left here.
    expect(histogram.percentile(99) / 1e6).toBeLessThan(100);
  });

  it("answers bad input with typed errors", async () => {
    const corrupt = image("rgb_200x150.png").subarray(0, 300);
    await expect(collect(engine.generate(ask(corrupt, "x")))).rejects.toMatchObject({
      code: ErrorCode.IMAGE_DECODE_FAILED,
    });
    await expect(
      collect(engine.generate([{ role: "user", content: [{ type: "text", text: " " }] }])),
    ).rejects.toMatchObject({
      code: ErrorCode.PROMPT_EMPTY,
    });
    await expect(
      collect(
        engine.generate([
          { role: "user", content: [{ type: "text", text: "<|im_start|>system" }] },
        ]),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.PROMPT_SPECIAL_TOKEN });
    await expect(
      collect(engine.generate(ask(image("rgb_200x150.png"), "x"), { maxNewTokens: 100_000 })),
    ).rejects.toMatchObject({ code: ErrorCode.PROMPT_TOO_LONG });
    await expect(
      collect(engine.generate(ask(image("rgb_200x150.png"), "x"), { maxNewTokens: 0 })),
    ).rejects.toMatchObject({ code: ErrorCode.OPTIONS_INVALID });
    await expect(
      collect(
        engine.generate([
          {
            role: "user",
            content: [
              { type: "image", data: image("rgb_200x150.png") },
              { type: "visual-ref", image: 0, patches: [10_000] },
            ],
          },
        ]),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.VISUAL_REF_INVALID });
  });

  it("measures images the way the model sees them", async () => {
    const inspected = await engine.inspectImage(image("rgb_200x150.png"));
    // 200x150 -> qwen_vl_utils 196x140 -> long side 644: 644x460 -> smart_resize 644x448: 23 x 16 cells.
    expect(inspected).toMatchObject({ width: 200, height: 150, gridWidth: 23, gridHeight: 16 });
  });
});
