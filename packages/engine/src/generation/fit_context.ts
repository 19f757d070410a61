/**
 * Keeping a long conversation inside the model's context (issue 14.6): the oldest turns are
 * left out, from a user turn on, until the prompt fits. Images of dropped turns drop too (they
 * cost most of the tokens), and so do visual references in kept turns that point at them.
 */
import type { ChatTurn, ContentPart } from "@padt/protocol";

export interface ContextFit {
  /** Leading system turns, then the most recent turns from a user turn on. */
  readonly turns: ChatTurn[];
  /** Conversation index of each kept image, in order (kept image i was image images[i]). */
  readonly images: number[];
  readonly droppedTurns: number;
  /** Visual references in kept turns whose image was dropped, left out of the prompt. */
  readonly droppedRefs: number;
}

/**
 * The conversation from turn `start` on, images renumbered to the kept ones. `carry` (the
 * conversation index of an image in a dropped turn) goes first into turn `start`.
 */
function keepFrom(
  turns: readonly ChatTurn[],
  system: number,
  start: number,
  carry?: number,
): ContextFit {
  const kept = [...turns.slice(0, system), ...turns.slice(start)];
  const renumber = new Map<number, number>();
  const images: number[] = [];
  let carried: ContentPart | undefined;
  let image = 0;
  turns.forEach((turn, t) => {
    const keep = t < system || t >= start;
    if (t === start && carry !== undefined) {
      renumber.set(carry, images.length);
      images.push(carry);
    }
    for (const part of turn.content) {
      if (part.type !== "image") continue;
      if (image === carry) carried = part;
      if (keep) {
        renumber.set(image, images.length);
        images.push(image);
      }
      image++;
    }
  });
  let droppedRefs = 0;
  const out = kept.map((turn, k) => {
    const content = turn.content.flatMap((part): ContentPart[] => {
      if (part.type !== "visual-ref") return [part];
      const to = renumber.get(part.image);
      if (to === undefined) {
        droppedRefs++;
        return [];
      }
      return [{ ...part, image: to }];
    });
    return { ...turn, content: k === system && carried ? [carried, ...content] : content };
  });
  return { turns: out, images, droppedTurns: start - system, droppedRefs };
}

function leadingSystemTurns(turns: readonly ChatTurn[]): number {
  let system = 0;
  while (turns[system]?.role === "system") system++;
  return system;
}

/**
 * For a model trained on one question per image (its manifest's `capabilities.multi_turn` is
 * false: earlier turns make its answers worse, not better): the system turns and the last user
 * turn alone. When that turn brings no image, the conversation's latest image goes with it, so
 * a follow-up is asked as a fresh question about the picture the user is looking at.
 */
export function lastQuestion(turns: readonly ChatTurn[]): ContextFit {
  const system = leadingSystemTurns(turns);
  let last = turns.length - 1;
  while (last > system && turns[last]?.role !== "user") last--;
  if (last <= system) return keepFrom(turns, system, system);
  const images = (from: number, to: number) =>
    turns
      .slice(from, to)
      .reduce((n, t) => n + t.content.filter((p) => p.type === "image").length, 0);
  // The latest image of a dropped turn, unless a kept turn has one already.
  const before = images(0, last);
  const carry =
    images(last, turns.length) === 0 && before > images(0, system) ? before - 1 : undefined;
  return keepFrom(turns, system, last, carry);
}

/**
 * The most recent turns for which `fits` holds (it must hold for fewer turns whenever it
 * holds for more). The last user turn is always kept: if even it does not fit, that is
 * returned, and the prompt is too long for reasons of its own.
 */
export function fitContext(
  turns: readonly ChatTurn[],
  fits: (candidate: ContextFit) => boolean,
): ContextFit {
  const system = leadingSystemTurns(turns);
  const starts: number[] = [];
  for (let t = system; t < turns.length; t++)
    if (t === system || turns[t]?.role === "user") starts.push(t);
  const whole = keepFrom(turns, system, system);
  if (starts.length < 2 || fits(whole)) return whole;
  // Binary search over where to start: dropping more turns never makes the prompt longer.
  let lo = 1;
  let hi = starts.length - 1;
  let best = keepFrom(turns, system, starts[hi] as number);
  if (!fits(best)) return best;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const candidate = keepFrom(turns, system, starts[mid] as number);
    if (fits(candidate)) {
      best = candidate;
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}
