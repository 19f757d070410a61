import { unwrapResolverError } from "@apollo/server/errors";
import { ErrorCode } from "@padt/protocol";
import type { GraphQLError, GraphQLFormattedError } from "graphql";
import { armorCode, classify } from "../errors.js";

/**
 * One error format for HTTP and WebSocket: engine and persistence errors keep their codes
 * (ERRORS.md), graphql-armor's refusals get theirs, and anything unexpected becomes an
 * INTERNAL_SERVER_ERROR whose message is not shown (it is logged).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log?: (error: unknown) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const { stacktrace: _s, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
  const known = classify(original);
  if (known) {
    return {
      ...formatted,
      message: known.message,
      extensions: { ...known.extensions, code: known.code },
    };
  }
  const armored = armorCode(formatted.message);
  if (armored) return { ...formatted, extensions: { ...extensions, code: armored } };
  const code = extensions.code;
  if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) {
    log?.(original);
    return {
      message: "Internal server error",
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  }
  return { ...formatted, extensions };
}

/** formatError for errors graphql-js produced directly (the WebSocket path). */
export function formatGraphQLError(
  error: GraphQLError,
  log?: (error: unknown) => void,
): GraphQLFormattedError {
  const formatted = error.toJSON();
  const cause = error.originalError ?? error;
  if (!formatted.extensions?.code && !error.originalError) {
    // A plain GraphQLError from graphql-js (validation, variables): a client error.
    return {
      ...formatted,
      extensions: { code: armorCode(error.message) ?? "GRAPHQL_VALIDATION_FAILED" },
    };
  }
  return formatError(formatted, cause, log);
}
