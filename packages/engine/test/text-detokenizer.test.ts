import { ErrorCode } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { StreamingDetokenizer } from "../src/text/detokenizer.js";
import { TextTokenizer } from "../src/text/tokenizer.js";
import { QWEN_3B_TEXT_ROWS, qwenTokenizer, textFixture } from "./text-fixtures.js";

const tokenizer = await qwenTokenizer();
const V = QWEN_3B_TEXT_ROWS;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Feeds ids one at a time; returns every delta and checks none splits a character. */
function stream(ids: readonly number[], skipSpecialTokens = true): string[] {
  const detok = new StreamingDetokenizer(tokenizer, { vrtStart: V, skipSpecialTokens });
  const deltas = ids.map((id) => detok.push(id));
  deltas.push(detok.flush());
  for (const delta of deltas) {
    // A lone surrogate would mean half an emoji; U+FFFD in the middle, a held-back byte lost.
    expect(delta).not.toMatch(LONE_SURROGATE);
  }
  return deltas;
}

describe("StreamingDetokenizer on Qwen's vocabulary", () => {
  for (const s of textFixture.streams) {
    it(`streams ${JSON.stringify(s.decoded)} one id at a time into Python's decode`, () => {
      const deltas = stream(s.ids);
      expect(deltas.join("")).toBe(s.decoded);
      if (s.text !== null) {
        // Never emits a partial character: every prefix is a prefix of the full text.
        let acc = "";
        for (const d of deltas) {
          acc += d;
          expect(s.decoded.startsWith(acc)).toBe(true);
          expect(acc.includes("\uFFFD")).toBe(false);
        }
      }
    });
  }

  it("holds back the bytes of a character split across tokens", () => {
    // 𠜎 (4 bytes) is three tokens in Qwen's vocabulary: 2 bytes, then 1, then 1.
    const ids = Array.from(tokenizer.encode("𠜎"));
    expect(ids).toEqual([101862, 250, 236]);
    expect(stream(ids)).toEqual(["", "", "𠜎", ""]);
  });

  it("emits nothing for VRTs and keeps the text around them intact", () => {
    const text = 'The "cat" refers to  in this image. 猫🐱';
    const ids = Array.from(tokenizer.encode(text));
    const at = ids.indexOf(Array.from(tokenizer.encode(" in"))[0]!);
    // VRTs between every id as well, to split multibyte characters too.
    const withVrts = [...ids.slice(0, at), V, V + 7, V + 3, ...ids.slice(at)].flatMap((id) =>
      id < V ? [id, V + 100] : [id],
    );
    const detok = new StreamingDetokenizer(tokenizer, { vrtStart: V });
    let out = "";
    for (const id of withVrts) {
      const delta = detok.push(id);
      if (detok.isVrt(id)) expect(delta).toBe("");
      out += delta;
    }
    out += detok.flush();
    expect(out).toBe(text);
    expect(out).toBe(tokenizer.decode(withVrts.filter((id) => id < V)));
  });

  it("matches decode() with and without special tokens, streamed", () => {
    for (const c of Object.values(textFixture.prompts)) {
      expect(stream(c.ids).join("")).toBe(tokenizer.decode(c.ids, { skipSpecialTokens: true }));
      expect(stream(c.ids, false).join("")).toBe(tokenizer.decode(c.ids));
    }
  });

  it("matches decode() on random ids, split characters and specials included", () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 1 + (next() % 12) }, () => {
        const r = next() % 10;
        if (r === 0) return 151643 + (next() % 26); // added tokens
        if (r === 1) return V + (next() % 50); // VRTs
        if (r < 5) return next() % 256; // single bytes, often partial characters
        return next() % 151643;
      });
      const text = ids.filter((id) => id < V);
      for (const skip of [true, false]) {
        const expected =
          text.length === 0 ? "" : tokenizer.decode(text, { skipSpecialTokens: skip });
        expect(stream(ids, skip).join("")).toBe(expected);
      }
    }
  });

  it("refuses tokenizers it cannot stream exactly", () => {
    const wordPiece = TextTokenizer.fromJson({
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0, a: 1 } },
    });
    expect(() => new StreamingDetokenizer(wordPiece, { vrtStart: 2 })).toThrowError(
      expect.objectContaining({ code: ErrorCode.BUNDLE_INVALID }),
    );
  });
});
