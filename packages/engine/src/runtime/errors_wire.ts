import { type ErrorCode, PadtError } from "@padt/protocol";
import type { SerializedError } from "./protocol.js";

export function serializeError(error: unknown): SerializedError {
  if (error instanceof PadtError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      details: { ...error.details },
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** Errors keep their public code across the thread boundary; others become plain Errors. */
export function deserializeError(error: SerializedError): Error {
  if (error.code) return new PadtError(error.code as ErrorCode, error.message, error.details ?? {});
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}
