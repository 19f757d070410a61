/**
 * RIC: grounded-phrase accuracy and caption text overlap.
 *
 * Phrase matching. The model writes its own caption, so character spans of the prediction and
 * of the annotation index different strings; phrases are matched by text instead. A phrase's
 * text is normalised (tokenize() of text.ts, then the articles "a", "an", "the" dropped). A
 * reference and a predicted phrase of one image are candidates when their normalised texts are
 * equal (tier 0) or, failing that, their last words (the head noun, in English noun phrases)
 * are equal (tier 1). Candidates are assigned one to one, greedily: lower tier first, then higher
 * box IoU, then earlier reference, then earlier prediction.
 *
 * Grounding. A phrase may name several objects; its region is the union box of its boxes on
 * both sides (the "merged boxes" protocol of Flickr30k Entities). A matched phrase is grounded
 * correctly when the two regions have IoU >= 0.5. A predicted phrase without boxes never is.
 *
 * accuracy = correct / matched; recall = correct / reference phrases; precision = correct /
 * predicted phrases (with boxes or not).
 */
import type { Box } from "@padt/protocol";
import { boxIou } from "./box.js";
import { bleu4, rougeL, tokenize } from "./text.js";

export interface RicPhrase {
  text: string;
  boxes: readonly Box[];
}

export interface RicSample {
  id: string | number;
  /** Reference captions (at least one) for the text metrics. */
  referenceCaptions: readonly string[];
  /** The annotated phrases and their regions. */
  referencePhrases: readonly RicPhrase[];
  caption: string;
  phrases: readonly RicPhrase[];
}

export interface RicMetrics {
  samples: number;
  referencePhrases: number;
  predictedPhrases: number;
  matchedPhrases: number;
  correctPhrases: number;
  accuracy: number;
  recall: number;
  precision: number;
  bleu4: number;
  rougeL: number;
}

export const RIC_IOU_THRESHOLD = 0.5;
const ARTICLES = new Set(["a", "an", "the"]);

export function normalisePhrase(text: string): string[] {
  return tokenize(text).filter((t) => !ARTICLES.has(t));
}

export function unionBox(boxes: readonly Box[]): Box | null {
  if (boxes.length === 0) return null;
  const x0 = Math.min(...boxes.map((b) => b.x));
  const y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.width));
  const y1 = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export interface PhraseMatch {
  reference: number;
  prediction: number;
  iou: number;
}

/** The one-to-one phrase assignment of one sample (see the module comment). */
export function matchPhrases(
  references: readonly RicPhrase[],
  predictions: readonly RicPhrase[],
): PhraseMatch[] {
  const norm = (p: RicPhrase) => normalisePhrase(p.text);
  const refs = references.map((p) => ({ words: norm(p), box: unionBox(p.boxes) }));
  const preds = predictions.map((p) => ({ words: norm(p), box: unionBox(p.boxes) }));
  const candidates: (PhraseMatch & { tier: number })[] = [];
  refs.forEach((r, i) => {
    preds.forEach((p, j) => {
      if (r.words.length === 0 || p.words.length === 0) return;
      const tier =
        r.words.join(" ") === p.words.join(" ") ? 0 : r.words.at(-1) === p.words.at(-1) ? 1 : -1;
      if (tier < 0) return;
      const iou = r.box && p.box ? boxIou(r.box, p.box) : 0;
      candidates.push({ reference: i, prediction: j, iou, tier });
    });
  });
  candidates.sort(
    (a, b) =>
      a.tier - b.tier || b.iou - a.iou || a.reference - b.reference || a.prediction - b.prediction,
  );
  const usedRef = new Set<number>();
  const usedPred = new Set<number>();
  const matches: PhraseMatch[] = [];
  for (const { reference, prediction, iou } of candidates) {
    if (usedRef.has(reference) || usedPred.has(prediction)) continue;
    usedRef.add(reference);
    usedPred.add(prediction);
    matches.push({ reference, prediction, iou });
  }
  return matches.sort((a, b) => a.reference - b.reference);
}

export function ricMetrics(samples: readonly RicSample[]): RicMetrics {
  let referencePhrases = 0;
  let predictedPhrases = 0;
  let matchedPhrases = 0;
  let correctPhrases = 0;
  for (const s of samples) {
    const matches = matchPhrases(s.referencePhrases, s.phrases);
    referencePhrases += s.referencePhrases.length;
    predictedPhrases += s.phrases.length;
    matchedPhrases += matches.length;
    correctPhrases += matches.filter((m) => m.iou >= RIC_IOU_THRESHOLD).length;
  }
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const pairs = samples.map((s) => ({ candidate: s.caption, references: s.referenceCaptions }));
  return {
    samples: samples.length,
    referencePhrases,
    predictedPhrases,
    matchedPhrases,
    correctPhrases,
    accuracy: ratio(correctPhrases, matchedPhrases),
    recall: ratio(correctPhrases, referencePhrases),
    precision: ratio(correctPhrases, predictedPhrases),
    bleu4: bleu4(pairs),
    rougeL: rougeL(pairs),
  };
}
