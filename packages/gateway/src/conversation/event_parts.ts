import type { PartInput } from "../db/repos/parts.js";
import type { MessageEvent } from "../db/schema.js";
import type { EventPayloads, RefPayload } from "./events.js";

/**
 * The answer parts that a message's stored stream events spell, in order: text runs as they
 * streamed, each visual reference where it opened, as its latest event left it. Used for an
 * answer whose process died mid-stream (recovery), which never got its parts written.
 */
export function partsFromEvents(
  events: readonly Pick<MessageEvent, "type" | "payload">[],
): PartInput[] {
  const segments: ({ text: string } | { ref: RefPayload })[] = [];
  const refs = new Map<number, { ref: RefPayload }>();
  for (const event of events) {
    if (event.type === "text_delta") {
      const { text } = event.payload as EventPayloads["text_delta"];
      const last = segments.at(-1);
      if (last && "text" in last) last.text += text;
      else segments.push({ text });
    } else if (event.type === "visual_ref_started" || event.type === "visual_ref_decoded") {
      const { ref } = event.payload as EventPayloads["visual_ref_started"];
      const known = refs.get(ref.index);
      if (known) known.ref = ref;
      else {
        const segment = { ref };
        refs.set(ref.index, segment);
        segments.push(segment);
      }
    }
  }
  return segments.flatMap((s): PartInput[] => {
    if ("text" in s) return s.text ? [{ kind: "text", text: s.text }] : [];
    // A reference whose image was unknown is dropped, as for a finished answer (answer.ts).
    if (!s.ref.imageId) return [];
    const { index, ...ref } = s.ref;
    return [{ kind: "visual_ref", refIndex: index, ...ref }];
  });
}
