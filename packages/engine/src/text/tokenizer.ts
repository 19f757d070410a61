/**
 * A Hugging Face tokenizer.json (+ tokenizer_config.json) behind a small interface, so the
 * vendor's types stay in this file. Special tokens are found by their strings, never by id:
 * a bundle may renumber them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { ErrorCode, PadtError } from "@padt/protocol";

/** The chat and vision markers of the Qwen2-VL family, by their strings. */
export const QWEN_VL_SPECIAL_TOKENS = {
  endOfText: "<|endoftext|>",
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
  visionStart: "<|vision_start|>",
  visionEnd: "<|vision_end|>",
  imagePad: "<|image_pad|>",
} as const;
export type SpecialTokenName = keyof typeof QWEN_VL_SPECIAL_TOKENS;
export type SpecialTokenIds = Readonly<Record<SpecialTokenName, number>>;

/** One vocabulary entry as the detokenizer needs it. */
export type TokenPiece =
  /** A model token: its characters spell bytes in the byte-level alphabet. */
  | { kind: "model"; token: string }
  /** An added token: its content is literal text. */
  | { kind: "added"; content: string; special: boolean };

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

export class TextTokenizer {
  /** Number of ids the tokenizer knows (added tokens included): max id + 1. */
  readonly vocabSize: number;
  /** Whether the decoder is byte-level BPE (GPT-2 / Qwen style). */
  readonly byteLevel: boolean;
  /** Whether decode() applies the legacy clean-up of spaces before punctuation. */
  readonly cleanUpSpaces: boolean;
  /** Contents of the special tokens (skipped by `skipSpecialTokens`). */
  readonly specialTokens: readonly string[];
  readonly #hf: HfTokenizer;
  readonly #added: ReadonlyMap<number, { content: string; special: boolean }>;

  private constructor(json: Record<string, unknown>, config: Record<string, unknown>) {
    try {
      this.#hf = new HfTokenizer(json, config);
    } catch (cause) {
      throw new PadtError(
        ErrorCode.BUNDLE_INVALID,
        "tokenizer.json could not be loaded",
        {},
        {
          cause,
        },
      );
    }
    const added = new Map<number, { content: string; special: boolean }>();
    const special = new Set<string>();
    for (const token of (json.added_tokens ?? []) as AddedTokenJson[]) {
      added.set(token.id, { content: token.content, special: token.special === true });
      if (token.special === true) special.add(token.content);
    }
    // The config's extra specials also count as special when decoding, as in transformers.
    for (const content of (config.additional_special_tokens ?? []) as unknown[]) {
      if (typeof content === "string") special.add(content);
    }
    for (const [id, token] of added) {
      if (special.has(token.content)) added.set(id, { ...token, special: true });
    }
    this.#added = added;
    this.specialTokens = [...special];
    let maxId = -1;
    for (const id of this.#hf.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const decoder = json.decoder as { type?: unknown } | null | undefined;
    this.byteLevel = decoder?.type === "ByteLevel";
    // transformers (and we) default to false; tokenizers.js would default to true.
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
  }

  /** From parsed tokenizer.json and tokenizer_config.json (the latter may be empty). */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown = {}): TextTokenizer {
    if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model)) {
      throw new PadtError(ErrorCode.BUNDLE_INVALID, "tokenizer.json has no model section");
    }
    if (!isObject(tokenizerConfig)) {
      throw new PadtError(ErrorCode.BUNDLE_INVALID, "tokenizer_config.json is not an object");
    }
    return new TextTokenizer(tokenizerJson, tokenizerConfig);
  }

  /** Reads `tokenizer.json` and, when present, `tokenizer_config.json` from a directory. */
  static async load(dir: string): Promise<TextTokenizer> {
    const json = await readJson(join(dir, "tokenizer.json"), true);
    const config = (await readJson(join(dir, "tokenizer_config.json"), false)) ?? {};
    return TextTokenizer.fromJson(json, config);
  }

  /** Ids of `text`; special-token strings in it become their ids (no BOS/EOS is added). */
  encode(text: string): Int32Array {
    return Int32Array.from(this.#hf.encode(text, { add_special_tokens: false }).ids);
  }

  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.#hf.decode(Array.from(ids), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  tokenId(token: string): number | undefined {
    return this.#hf.token_to_id(token);
  }

  /** The id of a token that the bundle must have. */
  requireTokenId(token: string): number {
    const id = this.tokenId(token);
    if (id === undefined) {
      throw new PadtError(ErrorCode.BUNDLE_INVALID, `the tokenizer has no ${token} token`, {
        token,
      });
    }
    return id;
  }

  /** The Qwen2-VL chat and vision markers, looked up by their strings. */
  specialTokenIds(): SpecialTokenIds {
    const ids = {} as Record<SpecialTokenName, number>;
    for (const [name, token] of Object.entries(QWEN_VL_SPECIAL_TOKENS)) {
      ids[name as SpecialTokenName] = this.requireTokenId(token);
    }
    return ids;
  }

  /** What an id spells, or undefined for ids the tokenizer does not know. */
  piece(id: number): TokenPiece | undefined {
    const added = this.#added.get(id);
    if (added !== undefined) return { kind: "added", ...added };
    const token = this.#hf.id_to_token(id);
    return token === undefined ? undefined : { kind: "model", token };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (!required && (cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PadtError(
      ErrorCode.BUNDLE_FILE_MISSING,
      `cannot read ${path}`,
      { path },
      {
        cause,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PadtError(
      ErrorCode.BUNDLE_INVALID,
      `${path} is not valid JSON`,
      { path },
      {
        cause,
      },
    );
  }
}
