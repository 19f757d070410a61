import { ERROR_CATALOGUE, type ErrorCode } from "./error_codes.js";

/**
 * The one error class for bad input or state, thrown by the engine, plugins, persistence and
 * the gateway alike; its code is one of the catalogue's (error_codes.ts).
 */
export class PadtError extends Error {
  override readonly name: string = "PadtError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the same request may succeed later unchanged (from the catalogue). */
  get retryable(): boolean {
    return ERROR_CATALOGUE[this.code].retryable;
  }
}

export function isPadtError(error: unknown, code?: ErrorCode): error is PadtError {
  return error instanceof PadtError && (code === undefined || error.code === code);
}
