/**
 * Renders the checkpoint's chat template (Jinja, as transformers' apply_chat_template does)
 * and turns the result into prompt ids with each image placeholder expanded to the image's
 * merged-token count, as Qwen2.5-VL's processor does.
 */
import { Template } from "@huggingface/jinja";
import type { ChatTurn } from "@padt/protocol";
import { ErrorCode, PadtError } from "@padt/protocol";
import { QWEN_VL_SPECIAL_TOKENS, type TextTokenizer } from "./tokenizer.js";

/** The content shape Qwen2-VL templates read: `{type: "text", text}` or `{type: "image"}`. */
export type TemplatePart = { type: "text"; text: string } | { type: "image" };

export interface TemplateMessage {
  role: "system" | "user" | "assistant";
  content: readonly TemplatePart[];
}

export class ChatTemplate {
  readonly #template: Template;

  constructor(source: string) {
    try {
      this.#template = new Template(source);
    } catch (cause) {
      throw new PadtError(
        ErrorCode.BUNDLE_INVALID,
        "the chat template does not parse",
        {},
        {
          cause,
        },
      );
    }
  }

  render(messages: readonly TemplateMessage[], options: { addGenerationPrompt: boolean }): string {
    try {
      return this.#template.render({
        messages,
        add_generation_prompt: options.addGenerationPrompt,
      });
    } catch (cause) {
      throw new PadtError(
        ErrorCode.BUNDLE_INVALID,
        "the chat template failed to render",
        {},
        {
          cause,
        },
      );
    }
  }
}

// Visual references stand in the rendered text as private-use markers, replaced by their
// VRT ids after tokenizing: the template only renders text, and a VRT is an added token
// that splits the text around it, so tokenizing the pieces apart is what the reference does.
const REF_OPEN = "\uE000";
const REF_CLOSE = "\uE001";
const REF_MARKER = /\uE000(\d+)\uE001/g;
const RESERVED = /[\uE000\uE001]/;

/** Chat turns as template messages; images become bare markers, in conversation order. */
export function templateMessages(turns: readonly ChatTurn[]): TemplateMessage[] {
  let ref = 0;
  return turns.map((turn) => ({
    role: turn.role,
    content: turn.content.map((part): TemplatePart => {
      switch (part.type) {
        case "text":
          return { type: "text", text: part.text };
        case "image":
          return { type: "image" };
        case "visual-ref":
          return { type: "text", text: `${REF_OPEN}${ref++}${REF_CLOSE}` };
        default:
          return part satisfies never;
      }
    }),
  }));
}

/** The visual references of a conversation, in order, as their VRT ids. */
function visualRefIds(turns: readonly ChatTurn[], vrt: EncodePromptOptions["vrt"]): Int32Array[] {
  const refs = turns.flatMap((t) => t.content.filter((p) => p.type === "visual-ref"));
  if (refs.length > 0 && !vrt) throw new RangeError("visual references need the VRT layout");
  return refs.map((ref) => {
    const counts = vrt?.patchCounts ?? [];
    const patches = counts[ref.image];
    if (patches === undefined) {
      throw new PadtError(
        ErrorCode.VISUAL_REF_INVALID,
        `no image ${ref.image} in the conversation`,
      );
    }
    if (ref.patches.length === 0) {
      throw new PadtError(ErrorCode.VISUAL_REF_INVALID, "a visual reference needs patches");
    }
    const offset = (vrt?.textRows ?? 0) + counts.slice(0, ref.image).reduce((a, b) => a + b, 0);
    return Int32Array.from(ref.patches, (patch) => {
      if (!Number.isInteger(patch) || patch < 0 || patch >= patches) {
        throw new PadtError(
          ErrorCode.VISUAL_REF_INVALID,
          `patch ${patch} is outside image ${ref.image} (${patches} patches)`,
        );
      }
      return offset + patch;
    });
  });
}

/** Tokenizes the rendered prompt, replacing each reference marker by its VRT ids. */
function encodeWithRefs(
  tokenizer: TextTokenizer,
  rendered: string,
  refs: Int32Array[],
): Int32Array {
  const pieces: Int32Array[] = [];
  let last = 0;
  for (const match of rendered.matchAll(REF_MARKER)) {
    pieces.push(tokenizer.encode(rendered.slice(last, match.index)));
    const ids = refs[Number(match[1])];
    if (!ids) throw new RangeError(`the template lost visual reference ${match[1]}`);
    pieces.push(ids);
    last = match.index + match[0].length;
  }
  pieces.push(tokenizer.encode(rendered.slice(last)));
  const out = new Int32Array(pieces.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface PromptEncoding {
  /** The template's output, one placeholder per image. */
  rendered: string;
  /** Token ids with each image placeholder expanded. */
  ids: Int32Array;
  /** Index in `ids` of each image's first placeholder token. */
  imageStarts: Int32Array;
}

export interface EncodePromptOptions {
  /** Placeholder tokens per image, in conversation order: grid_h * grid_w / merge^2. */
  imageTokenCounts: readonly number[];
  /** Append the assistant header. Default true. */
  addGenerationPrompt?: boolean;
  /** Where VRT ids start and each image's patch count; needed when turns hold visual references. */
  vrt?: { textRows: number; patchCounts: readonly number[] };
}

/**
 * Renders and tokenizes a conversation. Text may not contain special-token strings: the
 * tokenizer would read them as real markers, letting text forge turns or images.
 */
export function encodeChatPrompt(
  tokenizer: TextTokenizer,
  template: ChatTemplate,
  turns: readonly ChatTurn[],
  options: EncodePromptOptions,
): PromptEncoding {
  const messages = templateMessages(turns);
  const parts = messages.flatMap((m) => m.content);
  if (!parts.some((p) => p.type === "image" || p.text.trim() !== "")) {
    throw new PadtError(ErrorCode.PROMPT_EMPTY, "the prompt has no text and no image");
  }
  for (const turn of turns) {
    for (const part of turn.content) {
      if (part.type === "text" && RESERVED.test(part.text)) {
        throw new PadtError(
          ErrorCode.PROMPT_SPECIAL_TOKEN,
          "the text contains a reserved character (U+E000 or U+E001)",
        );
      }
    }
  }
  const refs = visualRefIds(turns, options.vrt);
  for (const part of parts) {
    if (part.type !== "text") continue;
    const found = tokenizer.specialTokens.find((token) => part.text.includes(token));
    if (found !== undefined) {
      throw new PadtError(
        ErrorCode.PROMPT_SPECIAL_TOKEN,
        `the text contains the special token ${found}`,
        { token: found },
      );
    }
  }
  const images = parts.filter((p) => p.type === "image").length;
  if (images !== options.imageTokenCounts.length) {
    throw new RangeError(
      `${images} images in the prompt, ${options.imageTokenCounts.length} sizes`,
    );
  }
  const rendered = template.render(messages, {
    addGenerationPrompt: options.addGenerationPrompt ?? true,
  });
  const imagePad = tokenizer.requireTokenId(QWEN_VL_SPECIAL_TOKENS.imagePad);
  const { ids, starts } = expandImagePads(
    encodeWithRefs(tokenizer, rendered, refs),
    imagePad,
    options,
  );
  return { rendered, ids, imageStarts: starts };
}

/**
 * Replaces the k-th placeholder id by imageTokenCounts[k] copies. Equivalent to expanding
 * the string before tokenizing (the processor's way), since the placeholder is a special
 * token that the tokenizer always splits on.
 */
function expandImagePads(
  ids: Int32Array,
  imagePad: number,
  { imageTokenCounts }: EncodePromptOptions,
): { ids: Int32Array; starts: Int32Array } {
  let pads = 0;
  for (const id of ids) if (id === imagePad) pads++;
  if (pads !== imageTokenCounts.length) {
    throw new PadtError(
      ErrorCode.BUNDLE_INVALID,
      `the chat template rendered ${pads} image placeholders for ${imageTokenCounts.length} images`,
    );
  }
  let total = ids.length - pads;
  for (const count of imageTokenCounts) {
    if (!Number.isInteger(count) || count <= 0) throw new RangeError(`bad image size ${count}`);
    total += count;
  }
  const out = new Int32Array(total);
  const starts = new Int32Array(imageTokenCounts.length);
  let o = 0;
  let image = 0;
  for (const id of ids) {
    if (id !== imagePad) {
      out[o++] = id;
      continue;
    }
    const count = imageTokenCounts[image]!;
    starts[image++] = o;
    out.fill(imagePad, o, o + count);
    o += count;
  }
  return { ids: out, starts };
}
