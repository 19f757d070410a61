/**
 * Streaming detokenizer for byte-level BPE: text deltas as ids arrive, never half a UTF-8
 * character. A model token spells raw bytes (one character of the byte-level alphabet per
 * byte), and a character may span several tokens, so bytes go through a streaming
 * TextDecoder that holds back an incomplete sequence until the rest arrives (or `flush`).
 *
 * The concatenated output equals `tokenizer.decode(textIds, { skipSpecialTokens })`, where
 * textIds are the ids below `vrtStart`: visual reference tokens are not text and are
 * transparent, like skipped special tokens (tokenizers.js drops those before decoding, so
 * bytes on both sides of one still join up).
 */
import { TextDecoder } from "node:util";
import { ErrorCode, PadtError } from "@padt/protocol";
import type { TextTokenizer } from "./tokenizer.js";

export interface DetokenizerOptions {
  /** First VRT id: the LLM's embedding rows V. Ids from here on are visual references. */
  vrtStart: number;
  /** Drop special tokens (im_end, vision markers, ...) from the text. Default true. */
  skipSpecialTokens?: boolean;
}

export class StreamingDetokenizer {
  readonly #tokenizer: TextTokenizer;
  readonly #vrtStart: number;
  readonly #skipSpecial: boolean;
  // Byte strings of model tokens, filled as ids are first seen.
  readonly #bytes = new Map<number, Uint8Array>();
  #decoder = newDecoder();

  constructor(tokenizer: TextTokenizer, options: DetokenizerOptions) {
    if (!tokenizer.byteLevel || tokenizer.cleanUpSpaces) {
      // Other decoders (Metaspace, WordPiece) and the space clean-up rewrite text across
      // token boundaries; streaming them needs a different algorithm.
      throw new PadtError(
        ErrorCode.BUNDLE_INVALID,
        "streaming needs a byte-level BPE tokenizer without clean_up_tokenization_spaces",
      );
    }
    this.#tokenizer = tokenizer;
    this.#vrtStart = options.vrtStart;
    this.#skipSpecial = options.skipSpecialTokens ?? true;
  }

  /** Whether `id` is a visual reference token rather than text. */
  isVrt(id: number): boolean {
    return id >= this.#vrtStart;
  }

  /** The text that `id` completes; "" while a character is incomplete or for a VRT. */
  push(id: number): string {
    if (!Number.isInteger(id) || id < 0) throw new RangeError(`invalid token id ${id}`);
    if (this.isVrt(id)) return "";
    const bytes = this.#bytesOf(id);
    if (bytes !== undefined) return this.#decoder.decode(bytes, { stream: true });
    const piece = this.#tokenizer.piece(id);
    if (piece === undefined || piece.kind !== "added") return ""; // unknown id: no text
    if (piece.special && this.#skipSpecial) return "";
    // An added token is literal text: what was pending is cut off here, as in decode().
    return this.flush() + piece.content;
  }

  /** Everything held back (an unfinished character becomes U+FFFD); resets the stream. */
  flush(): string {
    const rest = this.#decoder.decode();
    this.#decoder = newDecoder();
    return rest;
  }

  #bytesOf(id: number): Uint8Array | undefined {
    const cached = this.#bytes.get(id);
    if (cached !== undefined) return cached;
    const piece = this.#tokenizer.piece(id);
    if (piece?.kind !== "model") return undefined;
    const bytes = byteLevelBytes(piece.token);
    this.#bytes.set(id, bytes);
    return bytes;
  }
}

function newDecoder(): TextDecoder {
  // Same settings as tokenizers.js' ByteLevel decoder: lossy, BOM kept as text.
  return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
}

/** GPT-2's byte-level alphabet reversed: character -> byte. */
const CHAR_TO_BYTE: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    // Printable bytes stand for themselves; the others move to U+0100 and up, in order.
    map.set(String.fromCodePoint(printable(b) ? b : 256 + shifted++), b);
  }
  return map;
})();

function byteLevelBytes(token: string): Uint8Array {
  const out: number[] = [];
  for (const char of token) {
    const byte = CHAR_TO_BYTE.get(char);
    // A character outside the alphabet cannot occur in a byte-level vocabulary; keep
    // its UTF-8 bytes rather than dropping it.
    if (byte === undefined) out.push(...new TextEncoder().encode(char));
    else out.push(byte);
  }
  return Uint8Array.from(out);
}
