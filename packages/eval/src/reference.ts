/**
 * Definitions of tools/padt/train/metrics.py that the rest of @padt/eval does not share, ported
 * line for line so `padt eval` reports the PyTorch reference's numbers under its own names
 * (the model card's numbers are these).
 */
import type { BboxXywh } from "@padt/mask";
import type { AnswerSegment, Box } from "@padt/protocol";
import { boxIou } from "./box.js";

/** Python's round(): half to even. The reference rounds predicted boxes with it (round_box). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** padt.postprocess.round_box, as a Box. */
export function roundBox(b: Box): Box {
  const [x, y, width, height] = [b.x, b.y, b.width, b.height].map(roundHalfEven) as BboxXywh;
  return { x, y, width, height };
}

export const toXywh = (b: Box): BboxXywh => [b.x, b.y, b.width, b.height];

/**
 * metrics.match_one_to_one: greedy by highest IoU (ties: higher indices first, as Python's
 * reverse sort); metrics.box_iou is @padt/eval's boxIou.
 */
export function matchOneToOne(pred: readonly Box[], gt: readonly Box[], threshold = 0.5): number {
  const pairs: [number, number, number][] = [];
  pred.forEach((p, i) => {
    gt.forEach((g, j) => {
      pairs.push([boxIou(p, g), i, j]);
    });
  });
  pairs.sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2]);
  const usedP = new Set<number>();
  const usedG = new Set<number>();
  let matched = 0;
  for (const [iou, i, j] of pairs) {
    if (iou < threshold) break;
    if (usedP.has(i) || usedG.has(j)) continue;
    usedP.add(i);
    usedG.add(j);
    matched += 1;
  }
  return matched;
}

// The reference marks runs with \x00; a private-use character does the same job here.
const MARK = /\uE000(\d+)\uE000/g;
const GROUP = /\(\s*(\uE000\d+\uE000(?:\s*,\s*\uE000\d+\uE000)*)\s*\)/g;

/**
 * metrics.answer_groups on the engine's segments: each object segment stands for one run of
 * VRTs (the reference finds runs in the text with `(?:<|VRT_j|>)+`, one object each).
 */
export function answerGroups(segments: readonly AnswerSegment[]): [string, number[]][] {
  let marked = "";
  let counter = 0;
  for (const s of segments) marked += s.type === "text" ? s.text : `\uE000${counter++}\uE000`;
  const groups: [string, number[]][] = [];
  let previous = 0;
  for (const m of marked.matchAll(GROUP)) {
    const phrase = stripChars(marked.slice(previous, m.index).replace(MARK, " "), " ,;:.");
    const objects = [...m[1]!.matchAll(MARK)].map((x) => Number(x[1]));
    groups.push([phrase, objects]);
    previous = m.index + m[0].length;
  }
  return groups;
}

/** Python's str.strip(chars). */
function stripChars(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a]!)) a++;
  while (b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** metrics._ends_with_phrase. */
function endsWithPhrase(candidate: string, phrase: string): boolean {
  const c = candidate.toLowerCase().trimEnd();
  const p = phrase.toLowerCase().trim();
  if (!p || !c.endsWith(p)) return false;
  const before = c.slice(0, c.length - p.length);
  return !before || !/[\p{L}\p{N}]/u.test(before.at(-1)!);
}

/** metrics.grounded_phrases: [correct, total] for one caption. */
export function groundedPhrases(
  segments: readonly AnswerSegment[],
  predBoxes: readonly Box[],
  phrases: readonly { text: string; boxes: readonly Box[] }[],
): [number, number] {
  const groups = answerGroups(segments);
  const used = new Set<number>();
  let correct = 0;
  for (const { text, boxes: gtBoxes } of phrases) {
    for (const [g, [candidate, objects]] of groups.entries()) {
      if (used.has(g) || !endsWithPhrase(candidate, text)) continue;
      used.add(g);
      if (objects.length === gtBoxes.length && objects.every((o) => o < predBoxes.length)) {
        const boxes = objects.map((o) => predBoxes[o]!);
        correct += matchOneToOne(boxes, gtBoxes) === gtBoxes.length ? 1 : 0;
      }
      break;
    }
  }
  return [correct, phrases.length];
}
