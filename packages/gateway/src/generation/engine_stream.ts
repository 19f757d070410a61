import type { EngineClient, GenerateOptions, GenerationEvent } from "@padt/engine";
import { ErrorCode, isPadtError, PadtError } from "@padt/protocol";

/** Backoff while the engine is busy with work from another of its clients. */
const ENGINE_RETRY_MS = { first: 25, max: 1000 };

/**
 * Gives the job to the engine. Its worker was free when the slot was granted, but another
 * client of the same engine may have taken it: then wait and try again, keeping the place.
 */
export async function handOff(
  engine: EngineClient,
  turns: Parameters<EngineClient["generate"]>[0],
  options: GenerateOptions,
): Promise<AsyncIterable<GenerationEvent>> {
  for (let wait = ENGINE_RETRY_MS.first; ; wait = Math.min(ENGINE_RETRY_MS.max, 2 * wait)) {
    try {
      return engine.generate(turns, options);
    } catch (error) {
      if (!isPadtError(error, ErrorCode.QUEUE_FULL)) throw error;
    }
    await sleep(wait, options.signal);
  }
}

/**
 * The engine's events until it ends or `signal` aborts, whichever comes first: an engine that
 * is slow to notice the abort does not hold the generation (its iterator is returned).
 */
export async function* untilAborted<T>(
  events: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const iterator = events[Symbol.asyncIterator]();
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal.aborted) resolve("aborted");
    else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  try {
    while (true) {
      const next = iterator.next();
      const r = await Promise.race([next, aborted]);
      if (r === "aborted") {
        next.catch(() => {});
        throw new PadtError(ErrorCode.GENERATION_CANCELLED, "The generation was cancelled");
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * The event with U+0000 in its strings replaced by U+FFFD: the byte-level vocabulary can emit
 * a NUL, which neither PostgreSQL's text nor its jsonb can store (clients refuse it on input
 * with TEXT_INVALID; a model's answer is kept, with the replacement character in its place).
 */
export function storable<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("\u0000", "\uFFFD") as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = storable(v);
    return out as T;
  }
  return value;
}
