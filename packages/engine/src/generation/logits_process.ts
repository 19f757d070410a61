/**
 * transformers' logits processors (4.50), in float32 as PyTorch computes them: each takes
 * the step's scores over the whole dynamic vocabulary (text rows, then every image's VRT rows)
 * and returns new ones. Checked against transformers' LogitsProcessorList on the same scores
 * and ids (test/generation-logits-process.test.ts, fixture from
 * tools/scripts/make_logits_fixtures.py).
 */

const f32 = Math.fround;

/**
 * RepetitionPenaltyLogitsProcessor: the score of every id already in the sequence (prompt
 * ids, image pads and VRT ids included; each once, however often it occurs) is divided by
 * the penalty when positive, multiplied by it when negative.
 */
export function repetitionPenalty(
  scores: Float32Array,
  seen: Iterable<number>,
  penalty: number,
): Float32Array {
  const out = scores.slice();
  const p = f32(penalty);
  for (const id of seen) {
    const v = scores[id];
    if (v === undefined) continue;
    out[id] = v < 0 ? f32(v * p) : f32(v / p);
  }
  return out;
}

/** TemperatureLogitsWarper: scores / temperature. */
export function temperatureWarp(scores: Float32Array, temperature: number): Float32Array {
  const t = f32(temperature);
  return scores.map((v) => f32(v / t));
}

/** TopKLogitsWarper: scores below the k-th largest (ties kept) become -inf. */
export function topKWarp(scores: Float32Array, topK: number): Float32Array {
  const k = Math.min(Math.max(topK, 1), scores.length);
  const threshold = scores.slice().sort()[scores.length - k] as number;
  return scores.map((v) => (v < threshold ? Number.NEGATIVE_INFINITY : v));
}

/**
 * TopPLogitsWarper: in ascending order of score, tokens whose cumulative probability is at
 * most 1 - top_p become -inf; the most likely token always stays. Only finite scores take
 * part (a -inf score has probability 0 and is removed already); ties keep index order.
 */
export function topPWarp(scores: Float32Array, topP: number): Float32Array {
  const finite: number[] = [];
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (v === Number.NEGATIVE_INFINITY) continue;
    finite.push(i);
    if (v > max) max = v;
  }
  finite.sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
  let total = 0;
  for (const i of finite) total += Math.exp((scores[i] as number) - max);
  const threshold = f32(1 - topP);
  const out = scores.slice();
  let cumulative = 0;
  for (let r = 0; r < finite.length - 1; r++) {
    const i = finite[r] as number;
    cumulative = f32(cumulative + f32(Math.exp((scores[i] as number) - max) / total));
    if (cumulative > threshold) break;
    out[i] = Number.NEGATIVE_INFINITY;
  }
  return out;
}
