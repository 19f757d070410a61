import { describe, expect, it } from "vitest";
import { isPadtError, PadtError, PadtErrorCode } from "../src/index.js";

describe("PadtError", () => {
  it("carries its code, details and cause, and is told apart by code", () => {
    const cause = new Error("root");
    const error = new PadtError(
      PadtErrorCode.TASK_UNKNOWN,
      "no such task",
      { task: "x" },
      { cause },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "PadtError",
      code: "TASK_UNKNOWN",
      details: { task: "x" },
    });
    expect(error.cause).toBe(cause);
    expect(isPadtError(error)).toBe(true);
    expect(isPadtError(error, PadtErrorCode.TASK_UNKNOWN)).toBe(true);
    expect(isPadtError(error, PadtErrorCode.TASK_INPUT_INVALID)).toBe(false);
    expect(isPadtError(new Error("plain"))).toBe(false);
    expect(isPadtError({ code: "TASK_UNKNOWN" })).toBe(false);
  });

  it("names every code by itself, so codes survive serialisation unchanged", () => {
    for (const [key, value] of Object.entries(PadtErrorCode)) expect(value).toBe(key);
  });
});
