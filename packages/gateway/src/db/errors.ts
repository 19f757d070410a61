/**
 * What the persistence layer refuses, as codes the API layer maps to GraphQL errors.
 * The class stays private to the gateway (STYLE 10); callers test `code`.
 */
export const DbErrorCode = {
  /** No such row for this owner (rows of other owners are reported the same way). */
  NOT_FOUND: "NOT_FOUND",
  /** An idempotency key reused with a different request. */
  IDEMPOTENCY_CONFLICT: "IDEMPOTENCY_CONFLICT",
  /** A pagination cursor this layer did not make. */
  INVALID_CURSOR: "INVALID_CURSOR",
  /** Pagination arguments out of range or combined in an unsupported way. */
  INVALID_PAGE_ARGS: "INVALID_PAGE_ARGS",
  /** A status change the message's current status does not allow (e.g. completing a cancelled one). */
  INVALID_STATE: "INVALID_STATE",
  /** A PGlite data directory another process (or this one) already has open. */
  DATA_DIR_LOCKED: "DATA_DIR_LOCKED",
} as const;
export type DbErrorCode = (typeof DbErrorCode)[keyof typeof DbErrorCode];

export class DbError extends Error {
  override readonly name = "DbError";
  constructor(
    readonly code: DbErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isDbError(error: unknown, code?: DbErrorCode): error is DbError {
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
