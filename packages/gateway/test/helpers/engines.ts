import { fileURLToPath } from "node:url";
import { type EngineClient, type GenerationEvent, PadtEngine } from "@padt/engine";
import { ErrorCode, PadtError } from "@padt/protocol";

/** The exporter's tiny bundle: real onnxruntime sessions, random weights. */
export const TINY_BUNDLE = fileURLToPath(
  new URL("../../../../tests/fixtures/padt-tiny-random", import.meta.url),
);

/**
 * The real engine for end-to-end tests: one per test file, closed in afterAll. Its random
 * weights never choose end-of-text, so an answer runs to `maxNewTokens` (default 1024, about
 * 200 tokens/s here): ask for a few tokens to finish fast, or for many to keep it open.
 */
export function loadTinyEngine(): Promise<PadtEngine> {
  return PadtEngine.load({ bundle: TINY_BUNDLE, threads: 1 });
}

/**
 * Keeps every slot of the engine (its worker x the answers it batches) busy with long direct
 * generations until the returned function is called, so that answers sent meanwhile wait in
 * the engine's queue, unfinished, without streaming. (On PGlite a streaming answer's event
 * writes hold up every other request until it ends; tests that need an answer to stay open use
 * this instead.)
 */
export function occupy(engine: PadtEngine): () => Promise<void> {
  const stop = new AbortController();
  const running = Array.from({ length: engine.stats().slots }, () =>
    engine
      .run([{ role: "user", content: [{ type: "text", text: "hold" }] }], {
        maxNewTokens: 4096,
        signal: stop.signal,
      })
      .catch(() => undefined),
  );
  return async () => {
    stop.abort();
    await Promise.all(running);
  };
}

const INFO: EngineClient["info"] = {
  name: "no-model",
  executionProvider: "cpu",
  dtype: "fp32",
  vocabSize: 151_665,
  maxPixels: 12_845_056,
  supportedTasks: ["rec", "res", "ovd", "ric"],
  freeChat: true,
  multiTurn: true,
};

/**
 * The scripted engine answers no image questions: a grid is the model's answer, and a made-up
 * one here would let a test pass on an assumption (as a default-settings grid once hid that
 * the shipped bundle's differs). Tests store images with the grid they state, or upload
 * through the real engine.
 */
async function inspectImage(): Promise<never> {
  throw new Error("the scripted engine inspects no images: use loadTinyEngine()");
}

/** A step of a scripted generation: an event, or a pause until `release()` is called. */
export type Step = GenerationEvent | { type: "wait"; gate: Gate };

export interface Gate {
  release(): void;
  readonly promise: Promise<void>;
}

export function gate(): Gate {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, promise };
}

/**
 * A scripted EngineClient (a test double) for the unit tests of the runner
 * (generation-runner.test.ts) only; end-to-end tests use `loadTinyEngine()`. Each generate()
 * plays the next script, honouring the AbortSignal (it then ends with GENERATION_CANCELLED,
 * as the engine does). `queueFull` makes generate throw QUEUE_FULL
 * synchronously; `stats` can be set to simulate a full engine queue.
 */
export function scriptedEngine(scripts: Step[][]) {
  const calls: { turns: unknown; options: unknown }[] = [];
  const state = {
    queueFull: false,
    stats: { workers: 1, slots: 1, busy: 0, queued: 0, maxQueue: 4 },
  };
  const engine: EngineClient = {
    info: INFO,
    inspectImage,
    generate(turns, options) {
      if (state.queueFull) throw new PadtError(ErrorCode.QUEUE_FULL, "full");
      calls.push({ turns, options });
      const script = scripts.shift() ?? [];
      const signal = options?.signal;
      return (async function* (): AsyncGenerator<GenerationEvent> {
        for (const step of script) {
          if (signal?.aborted) throw new PadtError(ErrorCode.GENERATION_CANCELLED, "cancelled");
          if (step.type === "wait") {
            await Promise.race([
              step.gate.promise,
              new Promise<void>((resolve) =>
                signal?.addEventListener("abort", () => resolve(), { once: true }),
              ),
            ]);
            continue;
          }
          yield step;
        }
      })();
    },
    stats: () => state.stats,
    close: async () => {},
  };
  return { engine, calls, state };
}
