import type { GenerationEvent, VisualObject } from "@padt/protocol";

/** Where each image's patches start among the VRT ids: VRT id = textVocab + offset[image] + patch. */
export interface VrtLayout {
  /** Rows of the text vocabulary (embedding rows); ids from here on are visual reference tokens. */
  textVocabSize: number;
  /** Merged-patch counts of the conversation's images, in order. */
  patchCounts: readonly number[];
}

export function vrtOf(layout: VrtLayout, id: number): { image: number; patch: number } | undefined {
  let local = id - layout.textVocabSize;
  if (local < 0) return undefined;
  for (let image = 0; image < layout.patchCounts.length; image++) {
    const count = layout.patchCounts[image] as number;
    if (local < count) return { image, patch: local };
    local -= count;
  }
  return undefined;
}

export interface OpenObject extends VisualObject {
  /** Generation steps whose hidden states predicted the run's tokens (the decoder's features). */
  steps: number[];
}

export type TrackerEvent =
  | Extract<GenerationEvent, { type: "vrt" }>
  | { type: "close"; object: OpenObject };

/**
 * Reads generated tokens into objects as the reference does: an object is a maximal run of
 * VRT tokens; its label comes from the quote state machine below, fed one token's text at a
 * time (so a label is what lies between a token holding `"` and the next one holding `"`).
 * An unclosed quote keeps collecting text until the run starts, which closes it; the label is
 * then stripped, as padt.vrt does (the reference keeps a trailing space: docs/decisions.md).
 */
export class VrtTracker {
  #label = "";
  #inQuote = false;
  #open: OpenObject | undefined;
  #count = 0;

  constructor(private readonly layout: VrtLayout) {}

  /** `text` is the token decoded on its own; `step` the index of the step that produced it. */
  push(id: number, text: string, step: number): TrackerEvent[] {
    const vrt = vrtOf(this.layout, id);
    if (vrt) {
      if (this.#inQuote) this.#label = this.#label.trim();
      this.#inQuote = false;
      const events: TrackerEvent[] = [];
      // A run continues only on the same image; a jump to another image starts a new object.
      if (this.#open && this.#open.image !== vrt.image) events.push(...this.finish());
      const opens = !this.#open;
      if (!this.#open) {
        this.#open = {
          index: this.#count++,
          label: this.#label,
          image: vrt.image,
          patches: [],
          steps: [],
        };
      }
      this.#open.patches.push(vrt.patch);
      this.#open.steps.push(step);
      const event = { type: "vrt" as const, object: this.#open.index, ...vrt };
      // The label is final once the object opens: sent then, so no consumer needs a rule of its own.
      events.push(opens ? { ...event, label: this.#open.label } : event);
      return events;
    }
    const events = this.finish();
    this.#readText(text);
    return events;
  }

  /** Closes the run in progress, if any (at a text token or at the end of the answer). */
  finish(): TrackerEvent[] {
    const open = this.#open;
    this.#open = undefined;
    return open ? [{ type: "close", object: open }] : [];
  }

  #readText(text: string): void {
    if (text.includes('"')) {
      const parts = text.split('"');
      if (this.#inQuote) this.#label = `${this.#label}${parts[0]}`.trim();
      else this.#label = parts[1] ?? "";
      this.#inQuote = !this.#inQuote;
    } else if (this.#inQuote) {
      this.#label += text;
    }
  }
}
