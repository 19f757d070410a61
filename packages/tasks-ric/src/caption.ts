import type { AnswerSegment } from "@padt/task-api";
import { nounPhraseStart } from "./noun_phrase.js";

export interface GroundedPhrase {
  text: string;
  /** UTF-16 offsets into the caption, end exclusive. */
  start: number;
  end: number;
  /** Indexes of the objects the phrase refers to, e.g. "two dogs (<VRTs>, <VRTs>)". */
  objects: number[];
}

/**
 * Turns `A man (<VRTs>) rides a bike (<VRTs>).` into the caption `A man rides a bike.`
 * with each group of references attached to the noun phrase before it. The reference
 * parser leaves these labels empty; the phrase is what users want to see highlighted.
 */
export function readCaption(segments: readonly AnswerSegment[]): {
  caption: string;
  phrases: GroundedPhrase[];
} {
  let caption = "";
  const phrases: GroundedPhrase[] = [];
  let group: GroundedPhrase | undefined;
  segments.forEach((segment, i) => {
    if (segment.type === "object") {
      if (!group) {
        const end = caption.trimEnd().length;
        caption = caption.slice(0, end);
        const start = Math.min(nounPhraseStart(caption), end);
        group = { text: caption.slice(start, end), start, end, objects: [] };
        phrases.push(group);
      }
      group.objects.push(segment.object);
      return;
    }
    let text = segment.text;
    const nextIsObject = segments[i + 1]?.type === "object";
    if (group) {
      // Between two references of one group: ", " inside the parentheses.
      if (nextIsObject && /^\s*,?\s*$/.test(text)) return;
      text = text.replace(/^\s*\)/, "");
      group = undefined;
    }
    if (nextIsObject) text = text.replace(/\s*\(\s*$/, "");
    caption += text;
  });
  return { caption: caption.replace(/\s+([.,;:!?])/g, "$1"), phrases };
}
