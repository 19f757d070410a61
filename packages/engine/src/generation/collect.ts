import type {
  AnswerSegment,
  DecodedObject,
  FinishReason,
  GenerationEvent,
  GenerationResult,
  Usage,
} from "./types.js";

/** Gathers a generation's events into the answer they spell, segments in order. */
export async function collectResult(
  events: AsyncIterable<GenerationEvent>,
): Promise<GenerationResult> {
  const segments: AnswerSegment[] = [];
  const objects: DecodedObject[] = [];
  const placed = new Set<number>();
  let text = "";
  let done: { finishReason: FinishReason; usage: Usage; tokenIds: number[] } | undefined;
  for await (const event of events) {
    switch (event.type) {
      case "text": {
        text += event.text;
        const last = segments.at(-1);
        if (last?.type === "text") last.text += event.text;
        else segments.push({ type: "text", text: event.text });
        break;
      }
      case "vrt":
        // The first token of an object places it in the answer.
        if (!placed.has(event.object)) {
          placed.add(event.object);
          segments.push({ type: "object", object: event.object });
        }
        break;
      case "object":
        objects.push(event.object);
        break;
      case "done":
        done = { finishReason: event.finishReason, usage: event.usage, tokenIds: event.tokenIds };
        break;
      case "trimmed":
        break;
      default:
        event satisfies never;
    }
  }
  if (!done) throw new Error("the generation ended without a done event");
  return { text, segments, objects, ...done };
}
