import {
  type EngineClient,
  type GenerationEvent,
  modelInputSize,
  PadtError,
  PadtErrorCode,
  sanitizeImage,
} from "@padt/engine";

const INFO = {
  name: "no-model",
  executionProvider: "cpu",
  dtype: "fp32",
  vocabSize: 151_665,
  maxPixels: 12_845_056,
} as const;

/** The engine's real image inspection (sanitizeImage + modelInputSize), which needs no model. */
async function inspectImage(bytes: Uint8Array) {
  const image = await sanitizeImage(bytes);
  const grid = modelInputSize(image.height, image.width, { maxPixels: INFO.maxPixels });
  return { ...image, gridWidth: grid.gridWidth, gridHeight: grid.gridHeight };
}

/**
 * An EngineClient for server tests that never look at an answer: images go through the
 * engine's real code; a generation just waits until it is cancelled. The end-to-end tests
 * with the real model and PadtEngine replace it (issue 7, lead).
 */
export function imageOnlyEngine(): EngineClient {
  return {
    info: INFO,
    inspectImage,
    generate(_turns, options) {
      return (async function* (): AsyncGenerator<GenerationEvent> {
        await new Promise<void>((resolve) => {
          if (options?.signal?.aborted) resolve();
          options?.signal?.addEventListener("abort", () => resolve(), { once: true });
        });
        throw new PadtError(PadtErrorCode.GENERATION_CANCELLED, "cancelled");
      })();
    },
    stats: () => ({ workers: 1, busy: 0, queued: 0, maxQueue: 16 }),
    close: async () => {},
  };
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
 * A scripted EngineClient for unit tests of the runner and subscriptions only: each
 * generate() plays the next script, honouring the AbortSignal (it then ends with
 * GENERATION_CANCELLED, as the engine does). `queueFull` makes generate throw QUEUE_FULL
 * synchronously; `stats` can be set to simulate a full engine queue.
 */
export function scriptedEngine(scripts: Step[][]) {
  const calls: { turns: unknown; options: unknown }[] = [];
  const state = {
    queueFull: false,
    stats: { workers: 1, busy: 0, queued: 0, maxQueue: 4 },
  };
  const engine: EngineClient = {
    info: INFO,
    inspectImage,
    generate(turns, options) {
      if (state.queueFull) throw new PadtError(PadtErrorCode.QUEUE_FULL, "full");
      calls.push({ turns, options });
      const script = scripts.shift() ?? [];
      const signal = options?.signal;
      return (async function* (): AsyncGenerator<GenerationEvent> {
        for (const step of script) {
          if (signal?.aborted) throw new PadtError(PadtErrorCode.GENERATION_CANCELLED, "cancelled");
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
