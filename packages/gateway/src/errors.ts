import { isPadtError } from "@padt/engine";
import { GraphQLError } from "graphql";
import { isDbError } from "./db/errors.js";

/**
 * Codes the gateway itself sends as `extensions.code`, besides the engine's PadtErrorCode and
 * the persistence layer's DbErrorCode. Documented, with those, in ERRORS.md.
 */
export const GatewayErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  BODY_TOO_LARGE: "BODY_TOO_LARGE",
  BAD_REQUEST: "BAD_REQUEST",
  CSRF_PREFLIGHT_REQUIRED: "CSRF_PREFLIGHT_REQUIRED",
  QUERY_TOO_DEEP: "QUERY_TOO_DEEP",
  QUERY_TOO_COSTLY: "QUERY_TOO_COSTLY",
  QUERY_TOO_MANY_ALIASES: "QUERY_TOO_MANY_ALIASES",
  QUERY_TOO_MANY_TOKENS: "QUERY_TOO_MANY_TOKENS",
  QUERY_TOO_MANY_DIRECTIVES: "QUERY_TOO_MANY_DIRECTIVES",
  PART_INVALID: "PART_INVALID",
  TOO_MANY_PARTS: "TOO_MANY_PARTS",
  TEXT_TOO_LONG: "TEXT_TOO_LONG",
  TEXT_INVALID: "TEXT_INVALID",
  IMAGE_REQUIRED: "IMAGE_REQUIRED",
  SUBSCRIPTION_OVER_HTTP: "SUBSCRIPTION_OVER_HTTP",
  HEADERS_TOO_LARGE: "HEADERS_TOO_LARGE",
  OPTIONS_INVALID: "OPTIONS_INVALID",
  IDEMPOTENCY_KEY_INVALID: "IDEMPOTENCY_KEY_INVALID",
  TOO_MANY_GENERATIONS: "TOO_MANY_GENERATIONS",
  TOO_MANY_SUBSCRIPTIONS: "TOO_MANY_SUBSCRIPTIONS",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  METRICS_FORBIDDEN: "METRICS_FORBIDDEN",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/** A client-facing error with its code (and optional extensions such as retryAfterMs). */
export function gatewayError(
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** graphql-armor's messages, mapped to our codes (it reports them all as validation errors). */
const ARMOR_CODES: [RegExp, GatewayErrorCode][] = [
  [/depth limit/i, GatewayErrorCode.QUERY_TOO_DEEP],
  [/cost limit/i, GatewayErrorCode.QUERY_TOO_COSTLY],
  [/aliases limit/i, GatewayErrorCode.QUERY_TOO_MANY_ALIASES],
  [/directives limit/i, GatewayErrorCode.QUERY_TOO_MANY_DIRECTIVES],
  [/token limit|Document contains more th/i, GatewayErrorCode.QUERY_TOO_MANY_TOKENS],
];

export function armorCode(message: string): GatewayErrorCode | undefined {
  return ARMOR_CODES.find(([re]) => re.test(message))?.[1];
}

/**
 * The code and public extensions for whatever a resolver threw: engine and persistence
 * errors keep their codes; anything else is an internal error whose message is hidden.
 */
export function classify(
  error: unknown,
): { code: string; message: string; extensions: Record<string, unknown> } | undefined {
  if (isPadtError(error)) {
    return { code: error.code, message: error.message, extensions: { ...error.details } };
  }
  if (isDbError(error)) return { code: error.code, message: error.message, extensions: {} };
  return undefined;
}
