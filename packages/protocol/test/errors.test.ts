import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, ErrorCode, isErrorCode, isPadtError, PadtError } from "../src/index.js";

describe("PadtError", () => {
  it("carries its code, details and cause, and is told apart by code", () => {
    const cause = new Error("root");
    const error = new PadtError(ErrorCode.TASK_UNKNOWN, "no such task", { task: "x" }, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "PadtError",
      code: "TASK_UNKNOWN",
      details: { task: "x" },
    });
    expect(error.cause).toBe(cause);
    expect(isPadtError(error)).toBe(true);
    expect(isPadtError(error, ErrorCode.TASK_UNKNOWN)).toBe(true);
    expect(isPadtError(error, ErrorCode.TASK_INPUT_INVALID)).toBe(false);
    expect(isPadtError(new Error("plain"))).toBe(false);
    expect(isPadtError({ code: "TASK_UNKNOWN" })).toBe(false);
  });

  it("says from the catalogue whether the request may be retried", () => {
    expect(new PadtError(ErrorCode.QUEUE_FULL, "full").retryable).toBe(true);
    expect(new PadtError(ErrorCode.TASK_UNKNOWN, "no").retryable).toBe(false);
  });
});

describe("the error catalogue", () => {
  it("names every code by itself, so codes survive serialisation unchanged", () => {
    expect(Object.keys(ErrorCode)).toEqual(Object.keys(ERROR_CATALOGUE));
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(key);
    expect(isErrorCode("NOT_FOUND")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("GRAPHQL_PARSE_FAILED")).toBe(false);
  });

  it("gives every code a layer, an HTTP status or none, and a message", () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
      expect(["engine", "persistence", "gateway"], code).toContain(spec.layer);
      if (spec.status !== null) {
        expect(spec.status, code).toBeGreaterThanOrEqual(200);
        expect(spec.status, code).toBeLessThan(600);
      }
      expect(spec.message.length, code).toBeGreaterThan(10);
    }
  });

  it("keeps the wire codes clients already match on", () => {
    // Codes are API (GraphQL extensions.code): a rename here breaks clients.
    for (const code of [
      "NOT_FOUND",
      "QUEUE_FULL",
      "OPTIONS_INVALID",
      "INTERRUPTED",
      "UNAUTHENTICATED",
    ])
      expect(isErrorCode(code), code).toBe(true);
  });
});
