import type { ErrorCode } from "@padt/protocol";

/**
 * What the persistence layer refuses, with a code of the catalogue's persistence section
 * (NOT_FOUND, IDEMPOTENCY_CONFLICT, ...). The class stays private to the gateway (STYLE 10);
 * callers test `code`.
 */
export class DbError extends Error {
  override readonly name = "DbError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isDbError(error: unknown, code?: ErrorCode): error is DbError {
  return error instanceof DbError && (code === undefined || error.code === code);
}

/**
 * The SQLSTATE and constraint of a PostgreSQL error. drizzle wraps driver errors
 * (DrizzleQueryError, with the driver's error as `cause`), so look down the chain.
 */
export function pgErrorOf(error: unknown): { code: string; constraint?: string } | undefined {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const candidate = e as { code?: unknown; constraint?: unknown };
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return {
        code: candidate.code,
        ...(typeof candidate.constraint === "string" ? { constraint: candidate.constraint } : {}),
      };
    }
  }
  return undefined;
}
