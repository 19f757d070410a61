import type {
  AnswerSegment,
  DecodedObject,
  FinishReason,
  GenerationEvent,
  GenerationResult,
  HistoryTrim,
  Usage,
  VisualObject,
} from "@padt/protocol";

/** An object of the answer so far: opened by its first token, `decoded` once the decoder ran. */
export interface CollectedObject extends VisualObject {
  decoded?: DecodedObject;
}

const NO_USAGE: Usage = {
  promptTokens: 0,
  completionTokens: 0,
  prefillMs: 0,
  decodeMs: 0,
  decoderMs: 0,
};

/**
 * Gathers a generation's events, one at a time, into the answer they spell: text and objects
 * in order, objects that opened but were never decoded included (an answer stopped early).
 * The one collector: `PadtEngine.run` uses it, and so does a server that stores and streams
 * an answer while it grows. Labels are the engine's (sent when an object opens).
 */
export class AnswerCollector {
  readonly #segments: AnswerSegment[] = [];
  readonly #objects = new Map<number, CollectedObject>();
  #text = "";
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  /** What the engine left out of the history to fit its context, if anything. */
  trimmed: HistoryTrim | undefined;
  tokenIds: number[] = [];

  /** Applies an event; returns the object it touched, if any, and whether it just opened. */
  add(event: GenerationEvent): { object?: CollectedObject; opened?: boolean } {
    switch (event.type) {
      case "text": {
        this.#text += event.text;
        const last = this.#segments.at(-1);
        if (last?.type === "text") last.text += event.text;
        else this.#segments.push({ type: "text", text: event.text });
        return {};
      }
      case "vrt": {
        const open = this.#objects.get(event.object);
        if (open) {
          open.patches.push(event.patch);
          return { object: open, opened: false };
        }
        const object = this.#place({
          index: event.object,
          label: event.label ?? "",
          image: event.image,
          patches: [event.patch],
        });
        return { object, opened: true };
      }
      case "object": {
        const decoded = event.object;
        const object = this.#objects.get(decoded.index) ?? this.#place({ ...decoded, patches: [] });
        object.decoded = decoded;
        object.label = decoded.label;
        object.patches = [...decoded.patches];
        return { object };
      }
      case "trimmed": {
        const { type: _, ...trim } = event;
        this.trimmed = trim;
        return {};
      }
      case "done":
        this.finishReason = event.finishReason;
        this.usage = event.usage;
        this.tokenIds = event.tokenIds;
        return {};
      default: {
        const unknown: never = event;
        throw new Error(`Unknown generation event ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The answer's segments in order (text, and objects by index). */
  segments(): readonly AnswerSegment[] {
    return this.#segments;
  }

  object(index: number): CollectedObject | undefined {
    return this.#objects.get(index);
  }

  /** The answer so far; `finishReason` defaults to the done event's, else "cancelled". */
  result(finishReason: FinishReason = this.finishReason ?? "cancelled"): GenerationResult {
    return {
      text: this.#text,
      segments: this.#segments.map((s) => ({ ...s })),
      objects: [...this.#objects.values()].flatMap((o) => (o.decoded ? [o.decoded] : [])),
      finishReason,
      usage: this.usage ?? NO_USAGE,
      tokenIds: this.tokenIds,
    };
  }

  /** The first event of an object places it in the answer. */
  #place(object: CollectedObject): CollectedObject {
    this.#objects.set(object.index, object);
    this.#segments.push({ type: "object", object: object.index });
    return object;
  }
}

/** Gathers a whole generation into the answer it spells. */
export async function collectResult(
  events: AsyncIterable<GenerationEvent>,
): Promise<GenerationResult> {
  const collector = new AnswerCollector();
  for await (const event of events) collector.add(event);
  if (!collector.finishReason) throw new Error("the generation ended without a done event");
  return collector.result();
}
