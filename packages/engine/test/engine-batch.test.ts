/**
 * Continuous batching: several generations on one engine worker, their decode steps in one
 * LLM call each (step_scheduler.ts), give each exactly what it gives alone: the goldens, which
 * the exporter's onnxruntime pipeline produced one case at a time. Sequences join mid-run and
 * leave at their own length; one cancelled or failed sequence leaves the others untouched.
 */
import { ErrorCode, type GenerationEvent } from "@padt/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest } from "../src/bundle/index.js";
import { PadtEngine } from "../src/engine/index.js";
import { bundleProcessorConfig } from "../src/engine/processor_config.js";
import { collectResult } from "../src/generation/collect.js";
import { decodeImage } from "../src/image/decode.js";
import { type ConversationImage, generatePadt } from "../src/models/padt/generate.js";
import { preprocessImage } from "../src/models/padt/image_processing.js";
import { PadtModel } from "../src/models/padt/model.js";
import { StepScheduler } from "../src/models/padt/step_scheduler.js";
import {
  expectGoldenAnswer,
  fixtures,
  type Golden,
  type GoldenCase,
  imagesOf,
  loadGolden,
  models,
  optionsOf,
  turnsOf,
} from "./golden-cases.js";

const random = loadGolden("padt-tiny-random");
const shapes = loadGolden("padt-tiny-shapes");
// The random bundle's cases that one engine serves (the bundle's own first-VRT rule, 644 px).
const randomCases = random.cases.filter((c) => c.long_side === 644 && !c.first_vrt_features);
const byName = (golden: Golden, name: string) =>
  golden.cases.find((c) => c.name === name) as GoldenCase;

/** Resolves at the first event of a generation that has at least `count` events. */
async function untilEvents(stream: AsyncIterable<GenerationEvent>, count: number) {
  const events: GenerationEvent[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    events.push(next.value);
  }
  return { events, rest: iterator };
}

describe("several answers on one engine worker", () => {
  let randomEngine: PadtEngine;
  let shapesEngine: PadtEngine;
  beforeAll(async () => {
    [randomEngine, shapesEngine] = await Promise.all([
      PadtEngine.load({
        bundle: `${fixtures}padt-tiny-random`,
        threads: 1,
        longSide: 644,
        maxBatch: 8,
      }),
      PadtEngine.load({ bundle: `${models}padt-tiny-shapes`, threads: 1, maxBatch: 8 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([randomEngine?.close(), shapesEngine?.close()]);
  });

  it("counts every worker's batch as capacity", () => {
    expect(randomEngine.stats()).toMatchObject({ workers: 1, slots: 8 });
  });

  it.each([2, 8])("%i concurrent answers each give what they give alone", async (n) => {
    const cases = Array.from({ length: n }, (_, i) => randomCases[i % randomCases.length]!);
    const results = await Promise.all(
      cases.map((c) => randomEngine.run(turnsOf(random, c), optionsOf(random, c))),
    );
    for (const [i, r] of results.entries()) expectGoldenAnswer(r, cases[i]!);
  });

  it("sequences join a running batch and leave it at their own lengths", async () => {
    // The long caption (65 tokens, 5 objects) runs; the two short answers join it mid-way.
    const long = byName(shapes, "shapes_ric_10");
    const first = shapesEngine.generate(turnsOf(shapes, long), optionsOf(shapes, long));
    const { events, rest } = await untilEvents(first, 6);
    const joiners = ["shapes_rec_3", "shapes_ovd_6"].map((name) => byName(shapes, name));
    const later = joiners.map((c) => shapesEngine.run(turnsOf(shapes, c), optionsOf(shapes, c)));
    const longResult = collectResult(
      (async function* () {
        yield* events;
        yield* { [Symbol.asyncIterator]: () => rest };
      })(),
    );
    const [a, b, c] = await Promise.all([...later, longResult]);
    expectGoldenAnswer(a!, joiners[0]!);
    expectGoldenAnswer(b!, joiners[1]!);
    expectGoldenAnswer(c!, long);
  });

  it("cancelling one answer leaves the others as they are alone", async () => {
    const long = byName(shapes, "shapes_ric_10");
    const others = ["shapes_rec_3", "shapes_ovd_6"].map((name) => byName(shapes, name));
    const abort = new AbortController();
    const cancelled = shapesEngine.generate(turnsOf(shapes, long), {
      ...optionsOf(shapes, long),
      signal: abort.signal,
    });
    const runs = others.map((c) => shapesEngine.run(turnsOf(shapes, c), optionsOf(shapes, c)));
    const { events, rest } = await untilEvents(cancelled, 3);
    abort.abort();
    const tail: GenerationEvent[] = [];
    for (let next = await rest.next(); !next.done; next = await rest.next()) tail.push(next.value);
    const done = [...events, ...tail].find((e) => e.type === "done");
    expect(done).toMatchObject({ type: "done", finishReason: "cancelled" });
    const results = await Promise.all(runs);
    for (const [i, r] of results.entries()) expectGoldenAnswer(r, others[i]!);
  });

  it("an answer whose input fails leaves the others as they are alone", async () => {
    const cases = randomCases.slice(0, 3);
    const broken = new Uint8Array(imagesOf(random, cases[0]!)[0]!.subarray(0, 200));
    const failing = randomEngine.run(
      [
        {
          role: "user",
          content: [
            { type: "image", data: broken },
            { type: "text", text: "?" },
          ],
        },
      ],
      { maxNewTokens: 16 },
    );
    const results = await Promise.all([
      ...cases.map((c) => randomEngine.run(turnsOf(random, c), optionsOf(random, c))),
      failing.then(
        () => {
          throw new Error("a truncated image must fail");
        },
        (error: unknown) => error,
      ),
    ]);
    expect(results.at(-1)).toMatchObject({ code: ErrorCode.IMAGE_DECODE_FAILED });
    for (const [i, c] of cases.entries()) expectGoldenAnswer(results[i] as never, c);
  });
});

describe("the step scheduler (in this thread, one model)", () => {
  let model: PadtModel;
  const conversationImages = async (c: GoldenCase): Promise<ConversationImage[]> => {
    const overrides = bundleProcessorConfig(model.manifest, 644);
    return Promise.all(
      imagesOf(random, c).map(async (bytes) => {
        const decoded = await decodeImage(bytes);
        const encoded = await model.encodeImage(preprocessImage(decoded, overrides));
        return { encoded, width: decoded.width, height: decoded.height };
      }),
    );
  };
  beforeAll(async () => {
    const dir = `${fixtures}padt-tiny-random`;
    model = await PadtModel.open(dir, await loadManifest(dir, "size"), { intraOpThreads: 1 });
  });

  const run = async (
    scheduler: StepScheduler,
    c: GoldenCase,
    control: { readonly cancelled: boolean } = { cancelled: false },
  ) =>
    collectResult(
      generatePadt(
        model,
        turnsOf(random, c),
        await conversationImages(c),
        optionsOf(random, c),
        { maxContextTokens: 8192 },
        control,
        scheduler,
      ),
    );

  it("runs every member's next token in one LLM call", async () => {
    const scheduler = new StepScheduler(model);
    const results = await Promise.all(randomCases.map((c) => run(scheduler, c)));
    for (const [i, r] of results.entries()) expectGoldenAnswer(r, randomCases[i]!);
    // 16 tokens each: the prefill gives the first, then 15 steps. A sequence steps as soon as
    // its prefill is done, so the first ones may run a step or two before the last joins;
    // alone, the six would take 90 calls.
    const steps = random.max_new_tokens - 1;
    expect(scheduler.tokens).toBe(randomCases.length * steps);
    expect(scheduler.steps).toBeGreaterThanOrEqual(steps);
    expect(scheduler.steps).toBeLessThan(2 * steps);
    expect(scheduler.size).toBe(0);
  });

  it("an error inside one sequence's loop fails it alone; the batch goes on", async () => {
    const scheduler = new StepScheduler(model);
    let polls = 0;
    const failing = {
      get cancelled(): boolean {
        if (++polls === 5) throw new Error("this sequence's own failure");
        return false;
      },
    };
    const [bad, ...good] = await Promise.allSettled([
      run(scheduler, randomCases[0]!, failing),
      ...randomCases.slice(1, 4).map((c) => run(scheduler, c)),
    ]);
    expect(bad).toMatchObject({ status: "rejected", reason: { message: /own failure/ } });
    for (const [i, r] of good.entries()) {
      if (r.status !== "fulfilled") throw r.reason;
      expectGoldenAnswer(r.value, randomCases[i + 1]!);
    }
    expect(scheduler.size).toBe(0);
  });
});
