/**
 * Caption text-overlap metrics.
 * Tokens: NFKC, lower case, maximal runs of letters and digits (punctuation dropped, so
 * "dog's" gives "dog", "s"), roughly what coco-caption's PTB tokenizer leaves.
 * - BLEU-4 (Papineni et al. 2002), corpus level: clipped n-gram precisions for n = 1..4 summed
 *   over the corpus, geometric mean with equal weights, brevity penalty exp(1 - r/c) when the
 *   candidate length c <= the reference length r (r sums each candidate's closest reference
 *   length, the shorter on a tie). No smoothing: 0 when some n has no match.
 * - ROUGE-L (Lin 2004) as coco-caption: per candidate, P = max over references of LCS/|cand|,
 *   R = max of LCS/|ref|, F = (1 + b^2) P R / (R + b^2 P) with b = 1.2; averaged over candidates.
 */

export function tokenize(text: string): string[] {
  return (
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(" ");
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

export interface CaptionPair {
  candidate: string;
  references: readonly string[];
}

export function bleu4(pairs: readonly CaptionPair[]): number {
  const matches = [0, 0, 0, 0];
  const totals = [0, 0, 0, 0];
  let c = 0;
  let r = 0;
  for (const { candidate, references } of pairs) {
    const cand = tokenize(candidate);
    const refs = references.map(tokenize);
    c += cand.length;
    let closest = Number.POSITIVE_INFINITY;
    for (const ref of refs) {
      const d = Math.abs(ref.length - cand.length);
      const best = Math.abs(closest - cand.length);
      if (d < best || (d === best && ref.length < closest)) closest = ref.length;
    }
    r += Number.isFinite(closest) ? closest : 0;
    for (let n = 1; n <= 4; n++) {
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        for (const [g, k] of ngrams(ref, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, k));
      }
      for (const [g, k] of ngrams(cand, n)) {
        matches[n - 1]! += Math.min(k, maxRef.get(g) ?? 0);
        totals[n - 1]! += k;
      }
    }
  }
  if (c === 0 || matches.some((m) => m === 0)) return 0;
  const logMean = matches.reduce((s, m, i) => s + Math.log(m / totals[i]!), 0) / 4;
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logMean);
}

function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 1; j <= b.length; j++) {
      row.push(x === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!));
    }
    prev = row;
  }
  return prev[b.length]!;
}

export const ROUGE_L_BETA = 1.2;

export function rougeLOne({ candidate, references }: CaptionPair): number {
  const cand = tokenize(candidate);
  let p = 0;
  let r = 0;
  for (const ref of references.map(tokenize)) {
    const l = lcs(cand, ref);
    if (cand.length) p = Math.max(p, l / cand.length);
    if (ref.length) r = Math.max(r, l / ref.length);
  }
  if (p === 0 || r === 0) return 0;
  const b2 = ROUGE_L_BETA ** 2;
  return ((1 + b2) * p * r) / (r + b2 * p);
}

export function rougeL(pairs: readonly CaptionPair[]): number {
  return pairs.length ? pairs.reduce((s, p) => s + rougeLOne(p), 0) / pairs.length : 0;
}
