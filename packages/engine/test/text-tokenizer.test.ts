import { ErrorCode, isPadtError } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { QWEN_VL_SPECIAL_TOKENS, TextTokenizer } from "../src/text/tokenizer.js";
import { qwenTokenizer, qwenTokenizerDir, textFixture } from "./text-fixtures.js";

const tokenizer = await qwenTokenizer();

describe("TextTokenizer on Qwen's tokenizer.json", () => {
  it("finds the special tokens by their strings at Qwen's ids", () => {
    expect(tokenizer.specialTokenIds()).toEqual({
      endOfText: 151643,
      imStart: 151644,
      imEnd: 151645,
      visionStart: 151652,
      visionEnd: 151653,
      imagePad: 151655,
    });
    for (const [token, id] of Object.entries(textFixture.specials)) {
      expect(tokenizer.tokenId(token)).toBe(id);
    }
  });

  it("knows as many ids as Python's tokenizers", () => {
    expect(tokenizer.vocabSize).toBe(textFixture.vocabSize);
    expect(tokenizer.byteLevel).toBe(true);
    expect(tokenizer.cleanUpSpaces).toBe(false);
  });

  for (const [name, c] of Object.entries(textFixture.prompts)) {
    it(`encodes the rendered ${name} prompt as Python does`, () => {
      expect(Array.from(tokenizer.encode(c.rendered))).toEqual(c.renderedIds);
    });
    it(`decodes the ${name} prompt as Python does (skipping specials)`, () => {
      expect(tokenizer.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decodeSkipSpecial);
      expect(tokenizer.decode(c.renderedIds)).toBe(c.rendered);
    });
  }

  for (const s of textFixture.streams) {
    it(`encodes and decodes ${JSON.stringify(s.decoded)} as Python does`, () => {
      if (s.text !== null) expect(Array.from(tokenizer.encode(s.text))).toEqual(s.ids);
      expect(tokenizer.decode(s.ids)).toBe(s.decoded);
    });
  }

  it("marks special tokens, and pieces distinguish added from model tokens", () => {
    for (const token of Object.values(QWEN_VL_SPECIAL_TOKENS)) {
      expect(tokenizer.specialTokens).toContain(token);
    }
    expect(tokenizer.piece(151645)).toEqual({
      kind: "added",
      content: "<|im_end|>",
      special: true,
    });
    expect(tokenizer.piece(151667)).toEqual({ kind: "added", content: "<think>", special: false });
    expect(tokenizer.piece(9707)).toEqual({ kind: "model", token: "Hello" });
    expect(tokenizer.piece(tokenizer.vocabSize)).toBeUndefined();
  });

  it("refuses a bundle without a required token, and missing or malformed files", async () => {
    const error = (() => {
      try {
        tokenizer.requireTokenId("<|no_such_token|>");
      } catch (e) {
        return e;
      }
    })();
    expect(isPadtError(error, ErrorCode.BUNDLE_INVALID)).toBe(true);
    await expect(TextTokenizer.load(`${qwenTokenizerDir}/nowhere`)).rejects.toMatchObject({
      code: ErrorCode.BUNDLE_FILE_MISSING,
    });
    expect(() => TextTokenizer.fromJson({ nope: 1 })).toThrow(/no model section/);
  });
});
