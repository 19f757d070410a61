import type {
  AnswerSegment,
  DecodedObject,
  FinishReason,
  GenerationEvent,
  GenerationResult,
  HistoryTrim,
  Usage,
} from "@padt/engine";
import type { RefPayload } from "../conversation/events.js";
import type { PartInput } from "../db/repos/parts.js";

interface OpenObject {
  index: number;
  image: number;
  patches: number[];
  label: string;
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
 * Collects a generation's events into the answer: text and objects in order, as the engine's
 * GenerationResult (for the task plugin) and as message parts (for the database), including
 * objects that opened but were never decoded when the generation stopped early.
 */
export class AnswerBuilder {
  readonly #segments: AnswerSegment[] = [];
  readonly #objects = new Map<number, OpenObject>();
  #text = "";
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  /** What the engine left out of the history to fit its context, if anything. */
  trimmed: HistoryTrim | undefined;
  tokenIds: number[] = [];

  /** `imageIds[i]` is the stored id of the conversation's i-th image. */
  constructor(private readonly imageIds: readonly string[]) {}

  /** Applies an event; returns the object it touched, if any, and whether it just opened. */
  add(event: GenerationEvent): { object?: OpenObject; opened?: boolean } {
    switch (event.type) {
      case "text": {
        this.#text += event.text;
        const last = this.#segments.at(-1);
        if (last?.type === "text") last.text += event.text;
        else this.#segments.push({ type: "text", text: event.text });
        return {};
      }
      case "vrt": {
        let object = this.#objects.get(event.object);
        const opened = !object;
        if (!object) {
          object = {
            index: event.object,
            image: event.image,
            patches: [],
            label: this.#lastQuoted(),
          };
          this.#objects.set(event.object, object);
          this.#segments.push({ type: "object", object: event.object });
        }
        object.patches.push(event.patch);
        return { object, opened };
      }
      case "object": {
        let object = this.#objects.get(event.object.index);
        if (!object) {
          object = { ...event.object, patches: [...event.object.patches] };
          this.#objects.set(event.object.index, object);
          this.#segments.push({ type: "object", object: event.object.index });
        }
        object.decoded = event.object;
        object.label = event.object.label;
        object.patches = [...event.object.patches];
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

  /** The label an object opening now gets: the last double-quoted text before it. */
  #lastQuoted(): string {
    const match = /"([^"]*)"[^"]*$/.exec(this.#text);
    return match?.[1] ?? "";
  }

  ref(object: OpenObject): RefPayload {
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

  /** The answer as message parts, in order; objects whose image is unknown are dropped. */
  parts(): PartInput[] {
    const parts: PartInput[] = [];
    for (const segment of this.#segments) {
      if (segment.type === "text") {
        if (segment.text) parts.push({ kind: "text", text: segment.text });
        continue;
      }
      const object = this.#objects.get(segment.object)!;
      const ref = this.ref(object);
      if (!ref.imageId) continue;
      parts.push({ kind: "visual_ref", refIndex: ref.index, ...ref });
    }
    return parts;
  }
}
