import type { AnswerSegment, DecodedObject, FinishReason, GenerationResult } from "@padt/protocol";

/** A decoded object for unit tests of answer parsers: a box and a one-pixel mask. */
export function testObject(
  label: string,
  overrides: Partial<DecodedObject> = {},
): Omit<DecodedObject, "index"> {
  return {
    label,
    image: 0,
    patches: [0, 1],
    box: { x: 10, y: 20, width: 30, height: 40 },
    mask: { height: 100, width: 100, counts: "PPh0", area: 1 },
    score: 0.9,
    ...overrides,
  };
}

/**
 * Builds the GenerationResult an engine would return for an answer written as text pieces
 * and objects in order, e.g. `answerOf(['The "x" refers to ', testObject("x"), ' in this image.'])`.
 */
export function answerOf(
  pieces: ReadonlyArray<string | Omit<DecodedObject, "index">>,
  finishReason: FinishReason = "stop",
): GenerationResult {
  const segments: AnswerSegment[] = [];
  const objects: DecodedObject[] = [];
  for (const piece of pieces) {
    if (typeof piece === "string") {
      segments.push({ type: "text", text: piece });
    } else {
      const object = { ...piece, index: objects.length };
      objects.push(object);
      segments.push({ type: "object", object: object.index });
    }
  }
  return {
    text: pieces.filter((p): p is string => typeof p === "string").join(""),
    segments,
    objects,
    finishReason,
    usage: { promptTokens: 0, completionTokens: 0, prefillMs: 0, decodeMs: 0, decoderMs: 0 },
    tokenIds: [],
  };
}
