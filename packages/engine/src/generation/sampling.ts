import { PadtError, PadtErrorCode } from "../errors.js";

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

export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  seed?: number;
}

export type Sampler = (logits: Float32Array) => number;

/** Greedy when temperature is 0 or absent; otherwise temperature + nucleus (top-p) sampling. */
export function createSampler(options: SamplingOptions = {}): Sampler {
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new PadtError(
      PadtErrorCode.TASK_INPUT_INVALID,
      `temperature must be >= 0 (got ${temperature})`,
    );
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new PadtError(PadtErrorCode.TASK_INPUT_INVALID, `topP must be in (0, 1] (got ${topP})`);
  }
  if (temperature === 0) return argmax;
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  return (logits) => sampleTopP(logits, temperature, topP, random());
}

function sampleTopP(logits: Float32Array, temperature: number, topP: number, u: number): number {
  const max = logits[argmax(logits)] as number;
  // Only finite candidates: masked rows (-inf) never come back.
  const candidates: { index: number; p: number }[] = [];
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v === Number.NEGATIVE_INFINITY) continue;
    const p = Math.exp((v - max) / temperature);
    if (p > 0) {
      candidates.push({ index: i, p });
      total += p;
    }
  }
  candidates.sort((a, b) => b.p - a.p || a.index - b.index);
  // Keep the smallest prefix whose mass reaches topP (always at least one token).
  let kept = 0;
  let mass = 0;
  while (kept < candidates.length && (kept === 0 || mass / total < topP)) {
    mass += (candidates[kept] as { p: number }).p;
    kept++;
  }
  let target = u * mass;
  for (let i = 0; i < kept; i++) {
    const c = candidates[i] as { index: number; p: number };
    target -= c.p;
    if (target <= 0) return c.index;
  }
  return (candidates[kept - 1] as { index: number }).index;
}
