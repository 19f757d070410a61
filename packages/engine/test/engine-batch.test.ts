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
import { inThreadDecoder, type ObjectDecoder } from "../src/models/padt/decode_object.js";
import { type ConversationImage, generatePadt } from "../src/models/padt/generate.js";
import { preprocessImage } from "../src/models/padt/image_processing.js";
import { PadtModel } from "../src/models/padt/model.js";
import {
  CACHE_GROWTH,
  type SchedulerPolicy,
  StepScheduler,
} from "../src/models/padt/step_scheduler.js";
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

/** A case's images through `model`'s vision graphs, preprocessed for `longSide`. */
async function encodeImages(
  model: PadtModel,
  golden: Golden,
  c: GoldenCase,
  longSide: number | null,
): Promise<ConversationImage[]> {
  const overrides = bundleProcessorConfig(model.manifest, longSide);
  const out: ConversationImage[] = [];
  for (const bytes of imagesOf(golden, c)) {
    const decoded = await decodeImage(bytes);
    const encoded = await model.encodeImage(preprocessImage(decoded, overrides));
    out.push({ encoded, width: decoded.width, height: decoded.height });
  }
  return out;
}

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

  it("an engine with the decoder in the worker's thread gives the same answers", async () => {
    const engine = await PadtEngine.load({
      bundle: `${models}padt-tiny-shapes`,
      threads: 1,
      decoderThread: false,
    });
    try {
      const cases = shapes.cases.filter((c) => !c.first_vrt_features && !c.generation);
      const results = await Promise.all(
        cases.map((c) => engine.run(turnsOf(shapes, c), optionsOf(shapes, c))),
      );
      for (const [i, r] of results.entries()) expectGoldenAnswer(r, cases[i]!);
    } finally {
      await engine.close();
    }
  });

  it("refuses scheduling options it does not know, before any worker starts", async () => {
    const bundle = `${models}padt-tiny-shapes`;
    await expect(PadtEngine.load({ bundle, prefillChunk: -8 })).rejects.toMatchObject({
      code: ErrorCode.OPTIONS_INVALID,
    });
    await expect(
      PadtEngine.load({ bundle, admission: "decode-first" as "interleaved" }),
    ).rejects.toMatchObject({ code: ErrorCode.OPTIONS_INVALID });
    await expect(PadtEngine.load({ bundle, eventIntervalMs: -1 })).rejects.toMatchObject({
      code: ErrorCode.OPTIONS_INVALID,
    });
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

/**
 * The admission policy, in this thread on the Shapes bundle: every model call is logged in the
 * order it runs (the scheduler orders them all), and the policy is asserted on that order.
 */
describe("the step scheduler's admission policy (call order)", () => {
  type Call = { kind: "encode" | "prefill" | "step"; tag: string; batch?: number };
  let model: PadtModel;
  let calls: Call[];
  beforeAll(async () => {
    const dir = `${models}padt-tiny-shapes`;
    model = await PadtModel.open(dir, await loadManifest(dir, "size"), { intraOpThreads: 1 });
  });

  /** `model` with every LLM call logged under `tag` (the sequence's name, or the batch's). */
  const tracedModel = (tag: string): PadtModel =>
    new Proxy(model, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === "step")
          return (...a: Parameters<PadtModel["step"]>) => {
            calls.push({ kind: "prefill", tag });
            return target.step(...a);
          };
        if (key === "stepBatch")
          return (...a: Parameters<PadtModel["stepBatch"]>) => {
            calls.push({ kind: "step", tag, batch: a[0].ids.length });
            return target.stepBatch(...a);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

  /** One answer as the worker runs it: admitted first, its image encoded through the admission. */
  const answer = async (scheduler: StepScheduler, c: GoldenCase) => {
    const admission = scheduler.admit();
    const images = await admission.work(() => {
      calls.push({ kind: "encode", tag: c.name });
      return encodeImages(model, shapes, c, null);
    });
    const events = generatePadt(
      tracedModel(c.name),
      turnsOf(shapes, c),
      images,
      optionsOf(shapes, c),
      { maxContextTokens: 8192 },
      { cancelled: false },
      scheduler,
      admission,
    );
    return collectResult(events);
  };

  const firstStep = () => calls.findIndex((k) => k.kind === "step");
  const schedulerFor = (policy: ConstructorParameters<typeof StepScheduler>[1]) =>
    new StepScheduler(tracedModel("batch"), policy);
  const steps = () => calls.filter((k) => k.kind === "step").length;
  const names = ["shapes_rec_3", "shapes_ovd_6", "shapes_ric_10"];

  it("prefill-first: a burst is encoded and prefilled, in admission order, before the first step", async () => {
    calls = [];
    const scheduler = schedulerFor({ admission: "prefill-first" });
    const cases = names.map((n) => byName(shapes, n));
    const results = await Promise.all(cases.map((c) => answer(scheduler, c)));
    for (const [i, r] of results.entries()) expectGoldenAnswer(r, cases[i]!);
    const before = calls.slice(0, firstStep());
    expect(before.filter((k) => k.kind === "encode").map((k) => k.tag)).toEqual(names);
    expect(before.filter((k) => k.kind === "prefill").map((k) => k.tag)).toEqual(names);
    // All three step together from the first step on: the longest answer's steps, no more.
    expect(calls[firstStep()]).toMatchObject({ batch: 3 });
    expect(scheduler.steps).toBe(Math.max(...cases.map((c) => c.generated_ids.length)) - 1);
    expect(scheduler.size).toBe(0);
    // A leave leaves a hole (the batch steps on at 3 rows) until holes are half the rows,
    // which re-assembles it at 1. Cache assemblies: the join, that one, and then one each
    // time the caption's buffer fills up (CACHE_GROWTH spare rows): one per leave would be more.
    const sizes = calls.flatMap((k) => (k.kind === "step" ? [k.batch] : []));
    expect(new Set(sizes)).toEqual(new Set([3, 1]));
    const stepsAt1 = sizes.filter((b) => b === 1).length;
    expect(scheduler.regroups).toBe(2 + Math.floor(stepsAt1 / CACHE_GROWTH));
  });

  /** The caption runs 5 steps, then the REC answer joins; both must be their goldens. */
  const joinMidRun = async (policy: Partial<SchedulerPolicy>) => {
    calls = [];
    const scheduler = schedulerFor(policy);
    const long = byName(shapes, "shapes_ric_10");
    const running = answer(scheduler, long);
    while (steps() < 5) await new Promise(setImmediate);
    const joiner = byName(shapes, "shapes_rec_3");
    const [a, b] = await Promise.all([running, answer(scheduler, joiner)]);
    expectGoldenAnswer(a, long);
    expectGoldenAnswer(b, joiner);
    // The newcomer's calls, as indices into the log.
    return { joined: b, own: calls.flatMap((k, i) => (k.tag === joiner.name ? [i] : [])) };
  };

  it("prefill-first: a newcomer mid-run stalls the batch once, for all of its calls together", async () => {
    const { own } = await joinMidRun({ admission: "prefill-first" });
    expect(own.map((i) => calls[i]?.kind)).toEqual(["encode", "prefill"]);
    expect(own[1]).toBe((own[0] as number) + 1);
    expect(calls[(own[1] as number) + 1]).toMatchObject({ kind: "step", batch: 2 });
  });

  it("interleaved, chunked: a long prompt delays the members by one chunk at a time", async () => {
    const chunk = 32;
    // Chunked prefill gives the answer it gives in one call (the goldens, checked inside).
    const { joined, own } = await joinMidRun({ admission: "interleaved", chunkTokens: chunk });
    const promptTokens = joined.usage.promptTokens;
    expect(own.length).toBe(1 + Math.ceil(promptTokens / chunk));
    expect(own.length).toBeGreaterThan(2);
    // Between two of the newcomer's calls the batch stepped (the long answer was still running).
    for (const [k, i] of own.slice(1).entries()) {
      const between = calls.slice((own[k] as number) + 1, i);
      expect(between.length).toBeGreaterThan(0);
      expect(between.every((c) => c.kind === "step")).toBe(true);
    }
  });

  it("the token loop goes on stepping while an object's decoder run is in flight", async () => {
    calls = [];
    const scheduler = schedulerFor({});
    const long = byName(shapes, "shapes_ric_10");
    const images = await encodeImages(model, shapes, long, null);
    // A decoder held back until the batch has stepped 3 more times (or the answer left it).
    const inline = inThreadDecoder(model);
    const held: { at: number; released: number }[] = [];
    const sizes: object[] = [];
    const decoder: ObjectDecoder = {
      offThread: true,
      async decodeObject(...args) {
        sizes.push(args[2]);
        const record = { at: steps(), released: 0 };
        held.push(record);
        while (steps() < record.at + 3 && scheduler.size > 0) await new Promise(setImmediate);
        record.released = steps();
        return inline.decodeObject(...args);
      },
    };
    const result = await collectResult(
      generatePadt(
        model,
        turnsOf(shapes, long),
        images,
        optionsOf(shapes, long),
        { maxContextTokens: 8192 },
        { cancelled: false },
        scheduler,
        scheduler.admit(),
        decoder,
      ),
    );
    expectGoldenAnswer(result, long);
    expect(held.length).toBe(long.objects.length);
    // The first objects close mid-answer: their runs overlapped three steps of the sequence.
    expect(held[0]!.released).toBe(held[0]!.at + 3);
    // The size alone goes to the decoder (a thread's message would clone anything more).
    for (const size of sizes) expect(Object.keys(size).sort()).toEqual(["height", "width"]);
  });

  it("refuses a chunk size that is not a non-negative integer", () => {
    expect(() => new StepScheduler(model, { chunkTokens: -1 })).toThrow(/chunkTokens/);
    expect(() => new StepScheduler(model, { chunkTokens: 1.5 })).toThrow(/chunkTokens/);
  });
});

describe("chunked prefill (in this thread, the random bundle)", () => {
  const dir = `${fixtures}padt-tiny-random`;
  const modelFor = new Map<string, Promise<PadtModel>>();
  /** The bundle's model, its manifest declaring the case's first-VRT rule when it has one. */
  const model = (c: GoldenCase) => {
    const rule = c.first_vrt_features ?? "";
    if (!modelFor.has(rule))
      modelFor.set(
        rule,
        loadManifest(dir, "size").then((m) =>
          PadtModel.open(dir, rule ? { ...m, first_vrt_features: rule } : m, {
            intraOpThreads: 1,
          }),
        ),
      );
    return modelFor.get(rule) as Promise<PadtModel>;
  };

  it("prompts split into 100-token calls, interleaved with the batch, give every golden", async () => {
    const rules = new Map<string, StepScheduler>();
    const results = await Promise.all(
      random.cases.map(async (c) => {
        const m = await model(c);
        const key = c.first_vrt_features ?? "";
        if (!rules.has(key))
          rules.set(key, new StepScheduler(m, { admission: "interleaved", chunkTokens: 100 }));
        const images = await encodeImages(m, random, c, c.long_side);
        return collectResult(
          generatePadt(
            m,
            turnsOf(random, c),
            images,
            optionsOf(random, c),
            { maxContextTokens: 8192 },
            { cancelled: false },
            rules.get(key),
          ),
        );
      }),
    );
    for (const [i, r] of results.entries()) {
      // Prompts of 270-828 tokens: 3 to 9 calls each, images across the chunk boundaries.
      expect(r.usage.promptTokens).toBeGreaterThan(200);
      expectGoldenAnswer(r, random.cases[i]!);
    }
  });
});
