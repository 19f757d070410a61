import { type DecodingSettings, resolveDecoding } from "./decoding.js";
import { repetitionPenalty, temperatureWarp, topKWarp, topPWarp } from "./logits_process.js";

/** A small seeded generator (mulberry32): the same seed gives the same samples on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit; the first on ties, as torch.argmax. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

export type Sampler = (logits: Float32Array, seen: ReadonlySet<number>) => number;

/** The step's scores after transformers' processors, in its order. */
export function processScores(
  logits: Float32Array,
  seen: ReadonlySet<number>,
  settings: DecodingSettings,
): Float32Array {
  let scores = logits;
  if (settings.repetitionPenalty !== 1)
    scores = repetitionPenalty(scores, seen, settings.repetitionPenalty);
  if (!settings.doSample) return scores;
  if (settings.temperature !== 1) scores = temperatureWarp(scores, settings.temperature);
  if (settings.topK !== 0) scores = topKWarp(scores, settings.topK);
  if (settings.topP < 1) scores = topPWarp(scores, settings.topP);
  return scores;
}

/**
 * Each step: the processed scores (`seen`: every id of the sequence so far), then argmax
 * (greedy), or a draw from their softmax with a seeded generator.
 */
export function createSampler(settings: DecodingSettings = resolveDecoding()): Sampler {
  if (!settings.doSample) return (logits, seen) => argmax(processScores(logits, seen, settings));
  const random = seededRandom(settings.seed ?? Math.floor(Math.random() * 2 ** 32));
  return (logits, seen) => draw(processScores(logits, seen, settings), random());
}

/** Index drawn with probability softmax(scores); -inf scores are never drawn. */
function draw(scores: Float32Array, u: number): number {
  const max = scores[argmax(scores)] as number;
  let total = 0;
  for (const v of scores) if (v !== Number.NEGATIVE_INFINITY) total += Math.exp(v - max);
  let target = u * total;
  let last = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (v === Number.NEGATIVE_INFINITY) continue;
    last = i;
    target -= Math.exp(v - max);
    if (target < 0) return i;
  }
  return last;
}
