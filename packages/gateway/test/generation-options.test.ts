/**
 * sendMessage's GenerationOptions: transformers' decoding settings pass through to the engine
 * as given; combinations the engine would refuse are OPTIONS_INVALID before anything is
 * written (server-api.test.ts checks that nothing is).
 */
import { describe, expect, it } from "vitest";
import { parseOptions } from "../src/conversation/validate.js";

describe("generation options", () => {
  it("keeps the checkpoint's settings unless the request overrides them", () => {
    expect(parseOptions(null, 64)).toBeNull();
    expect(parseOptions({ repetitionPenalty: 1 }, 64)).toEqual({ repetitionPenalty: 1 });
    expect(
      parseOptions({ doSample: true, temperature: 0.7, topK: 0, topP: 0.9, seed: 3 }, 64),
    ).toEqual({ doSample: true, temperature: 0.7, topK: 0, topP: 0.9, seed: 3 });
    expect(parseOptions({ temperature: 0 }, 64)).toEqual({ temperature: 0 });
  });

  it.each([
    [{ topP: 0.9 }, /doSample/],
    [{ doSample: false, temperature: 0.5 }, /doSample/],
    [{ doSample: true, temperature: 0 }, /temperature/],
    [{ doSample: true, topK: -1 }, /topK/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty/],
  ])("refuses %j", (options, message) => {
    expect(() => parseOptions(options, 64)).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(message),
        extensions: expect.objectContaining({ code: "OPTIONS_INVALID" }),
      }),
    );
  });
});
