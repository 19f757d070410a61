import { AnswerCollector, type CollectedObject } from "@padt/engine";
import type { RefPayload } from "../conversation/events.js";
import type { PartInput } from "../db/repos/parts.js";

/**
 * The engine's collector (text and objects in order, labels as the engine sent them, objects
 * that opened but were never decoded included), plus what the gateway stores and streams: an
 * object as a stream payload and the answer as message parts.
 */
export class AnswerBuilder extends AnswerCollector {
  /** `imageIds[i]` is the stored id of the conversation's i-th image. */
  constructor(private readonly imageIds: readonly string[]) {
    super();
  }

  ref(object: CollectedObject): RefPayload {
    const d = object.decoded;
    return {
      index: object.index,
      label: object.label || null,
      imageId: this.imageIds[object.image] ?? "",
      patches: [...object.patches],
      decoded: Boolean(d),
      box: d?.box ?? null,
      mask: d?.mask ?? null,
      score: d?.score ?? null,
    };
  }

  /** The answer as message parts, in order; objects whose image is unknown are dropped. */
  parts(): PartInput[] {
    const parts: PartInput[] = [];
    for (const segment of this.segments()) {
      if (segment.type === "text") {
        if (segment.text) parts.push({ kind: "text", text: segment.text });
        continue;
      }
      const object = this.object(segment.object)!;
      const ref = this.ref(object);
      if (!ref.imageId) continue;
      parts.push({ kind: "visual_ref", refIndex: ref.index, ...ref });
    }
    return parts;
  }
}
