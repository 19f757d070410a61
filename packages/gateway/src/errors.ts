import { ErrorCode, isPadtError } from "@padt/protocol";
import { GraphQLError } from "graphql";
import { isDbError } from "./db/errors.js";

/** A client-facing error with its code (and optional extensions such as retryAfterMs). */
export function gatewayError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** graphql-armor's messages, mapped to our codes (it reports them all as validation errors). */
const ARMOR_CODES: [RegExp, ErrorCode][] = [
  [/depth limit/i, ErrorCode.QUERY_TOO_DEEP],
  [/cost limit/i, ErrorCode.QUERY_TOO_COSTLY],
  [/aliases limit/i, ErrorCode.QUERY_TOO_MANY_ALIASES],
  [/directives limit/i, ErrorCode.QUERY_TOO_MANY_DIRECTIVES],
  [/token limit|Document contains more th/i, ErrorCode.QUERY_TOO_MANY_TOKENS],
];

export function armorCode(message: string): ErrorCode | undefined {
  return ARMOR_CODES.find(([re]) => re.test(message))?.[1];
}

/**
 * The code and public extensions for whatever a resolver threw: engine and persistence
 * errors keep their codes; anything else is an internal error whose message is hidden.
 */
export function classify(
  error: unknown,
): { code: ErrorCode; message: string; extensions: Record<string, unknown> } | undefined {
  if (isPadtError(error)) {
    return { code: error.code, message: error.message, extensions: { ...error.details } };
  }
  if (isDbError(error)) return { code: error.code, message: error.message, extensions: {} };
  return undefined;
}
