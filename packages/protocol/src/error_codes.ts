/**
 * The one error catalogue: every code any package sends (GraphQL `extensions.code`, a stored
 * message's error, the CLI's exit message), with its HTTP status and whether a client may
 * retry. The codes are a contract with clients: add codes, never rename them.
 * packages/gateway/ERRORS.md is generated from this table (`npm run errors:doc`).
 */

/** Which layer raises a code; the section of ERRORS.md it is listed in. */
export type ErrorLayer = "engine" | "persistence" | "gateway";

export interface ErrorSpec {
  readonly layer: ErrorLayer;
  /**
   * The HTTP status of a response that carries the code: 200 when a GraphQL result carries
   * it beside `data`; null when no HTTP response does (a stored message's error, a WebSocket
   * message, start-up, internal).
   */
  readonly status: number | null;
  /** What ERRORS.md shows where one status is not the whole story. */
  readonly statusNote?: string;
  /** Whether the same request may succeed later unchanged (limits, draining, a lost server). */
  readonly retryable: boolean;
  /** When the code is raised, as ERRORS.md tells clients. */
  readonly message: string;
}

export const ERROR_CATALOGUE = {
  IMAGE_DECODE_FAILED: {
    layer: "engine",
    status: 200,
    statusNote: "200 (400 on `POST /images`)",
    retryable: false,
    message: "bytes that are not a decodable image (truncated, corrupt, malformed base64)",
  },
  IMAGE_FORMAT_UNSUPPORTED: {
    layer: "engine",
    status: 200,
    statusNote: "200 (400)",
    retryable: false,
    message:
      "not PNG, JPEG or WebP: SVG, GIF, TIFF ..., or a declared `mimeType` other than those three",
  },
  IMAGE_TOO_LARGE: {
    layer: "engine",
    status: 200,
    statusNote: "200 (413)",
    retryable: false,
    message:
      "more bytes than `limits.imageBytes` (base64 is refused from its length, before decoding)",
  },
  IMAGE_TOO_MANY_PIXELS: {
    layer: "engine",
    status: 200,
    statusNote: "200 (400)",
    retryable: false,
    message: "width x height over `limits.imagePixels`, read from the header before decoding",
  },
  IMAGE_SHAPE_UNSUPPORTED: {
    layer: "engine",
    status: 200,
    statusNote: "200 (400)",
    retryable: false,
    message:
      "aspect ratio over 200, or a side under 28 px (read from the header at upload; nothing stored)",
  },
  PROMPT_EMPTY: {
    layer: "engine",
    status: 200,
    statusNote: "200; message `error`",
    retryable: false,
    message:
      "`sendMessage` of a message with no image, no visual reference, no task and only blank text: refused before anything is written. As a message `error`: the engine refused the conversation and the answer ends FAILED",
  },
  PROMPT_TOO_LONG: {
    layer: "engine",
    status: null,
    statusNote: "message `error`",
    retryable: false,
    message:
      "the new message alone does not fit the model's context; the answer ends FAILED. A long session is not a reason: the oldest history is left out to fit the context (the answer's `historyTrim` says what)",
  },
  PROMPT_SPECIAL_TOKEN: {
    layer: "engine",
    status: null,
    statusNote: "message `error`",
    retryable: false,
    message:
      "prompt text containing a special token's string (e.g. `<|im_end|>`), which would forge chat structure or images; the answer ends FAILED",
  },
  BUNDLE_INVALID: {
    layer: "engine",
    status: null,
    retryable: false,
    message:
      "start-up only (the engine does not load): the manifest is missing, malformed or of an unknown format version",
  },
  BUNDLE_FILE_MISSING: {
    layer: "engine",
    status: null,
    retryable: false,
    message: "start-up only (the engine does not load): a file the manifest names is absent",
  },
  BUNDLE_CHECKSUM_MISMATCH: {
    layer: "engine",
    status: null,
    retryable: false,
    message:
      "start-up only (the engine does not load): a bundle file whose size or sha256 differs from the manifest",
  },
  WORKERS_EXCEED_MEMORY: {
    layer: "engine",
    status: null,
    retryable: false,
    message:
      "start-up only (the engine does not load): more engine workers were asked for than copies of the bundle fit in the machine's memory (each worker holds its own); the message names the most that fit",
  },
  PROVIDER_UNAVAILABLE: {
    layer: "engine",
    status: null,
    retryable: false,
    message:
      "start-up only (the engine does not load): the requested execution provider (cuda, webgpu) is not installed or failed to start",
  },
  QUEUE_FULL: {
    layer: "engine",
    status: 200,
    retryable: true,
    message:
      "`sendMessage` when this process holds `limits.queueLength` generations (queued or running), or when the free places are kept for clients refused earlier whose turn it is; `extensions.retryAfterMs` says when to retry (from the measured service time and the place in line). Nothing is written. An accepted answer never ends with this code: it waits in the gateway's queue until the engine has a worker for it",
  },
  MODEL_UNAVAILABLE: {
    layer: "engine",
    status: 200,
    retryable: true,
    message:
      "`sendMessage` on a `--role gateway` replica when no `padt worker` for the model has sent a heartbeat within `PADT_LEASE_MS` (none started, or all stopped or died); `extensions.model` names it and `extensions.retryAfterMs` says when to look again. Nothing is written. A worker whose heartbeat is that recent still counts, so a send while one restarts is queued",
  },
  GENERATION_CANCELLED: {
    layer: "engine",
    status: null,
    retryable: false,
    message: "not sent: a cancelled answer ends with status CANCELLED",
  },
  VISUAL_REF_INVALID: {
    layer: "engine",
    status: 200,
    retryable: false,
    message:
      "a visual reference with patches outside the image's grid (repeated patches are accepted and kept once, in first-seen order: answers carry the model's raw runs such as `[8, 8, 8]`), a box outside the image, both or none of patches/box/refId, a `refId` of another session, or an image that is not in the conversation",
  },
  TASK_UNKNOWN: {
    layer: "engine",
    status: 200,
    retryable: false,
    message: "a TaskInput field that names no registered plugin (e.g. only `_placeholder`)",
  },
  TASK_INPUT_INVALID: {
    layer: "engine",
    status: 200,
    retryable: false,
    message: "TaskInput with more than one field set, or input the plugin's validation refuses",
  },
  NOT_FOUND: {
    layer: "persistence",
    status: 200,
    retryable: false,
    message:
      "no such session, message, image or visual reference **for this key's owner**: another owner's rows are reported exactly like absent ones; also malformed ids",
  },
  IDEMPOTENCY_CONFLICT: {
    layer: "persistence",
    status: 200,
    retryable: false,
    message: "`sendMessage` with an `idempotencyKey` already used for a different request",
  },
  INVALID_CURSOR: {
    layer: "persistence",
    status: 200,
    retryable: false,
    message: "a pagination cursor the server did not make",
  },
  INVALID_PAGE_ARGS: {
    layer: "persistence",
    status: 200,
    retryable: false,
    message: "`first`/`last` outside 0..100, or both given",
  },
  INVALID_STATE: {
    layer: "persistence",
    status: null,
    retryable: false,
    message: "internal (a status change that lost a race); not sent to clients",
  },
  DATA_DIR_LOCKED: {
    layer: "persistence",
    status: null,
    retryable: false,
    message:
      "start-up only (`padt serve`, every `padt keys` command, `connect({ dataDir })`): the PGlite data directory is open in another process, whose pid the message names; exit status 1. The lock is `<dir>/padt.lock`, removed when its holder closes or exits, and taken over when its process is gone (also after SIGKILL)",
  },
  UNAUTHENTICATED: {
    layer: "gateway",
    status: 401,
    retryable: false,
    message:
      "no `Authorization: Bearer <key>`, or an unknown, revoked or expired key (WebSocket: closed with 4403 at `connection_init`; an open socket whose key is revoked or expires is closed with 4401); `/metrics` without the configured metrics token",
  },
  BODY_TOO_LARGE: {
    layer: "gateway",
    status: 413,
    retryable: false,
    message:
      "a request body over `limits.bodyBytes` (from Content-Length, or cut off while reading)",
  },
  BAD_REQUEST: {
    layer: "gateway",
    status: 400,
    statusNote: "400 / 415",
    retryable: false,
    message:
      "a body that is not JSON; `POST /images` without multipart/form-data or without a file; `GET /images/:id` with a malformed percent-escape; a request that is not valid HTTP",
  },
  CSRF_PREFLIGHT_REQUIRED: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message:
      "`POST /images` without an `Apollo-Require-Preflight` or `X-Apollo-Operation-Name` header",
  },
  QUERY_TOO_DEEP: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message: "selection depth over `limits.queryDepth` (graphql-armor; HTTP and WebSocket)",
  },
  QUERY_TOO_COSTLY: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message: "graphql-armor cost over `limits.queryCost`",
  },
  QUERY_TOO_MANY_ALIASES: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message: "more than `limits.queryAliases` aliases",
  },
  QUERY_TOO_MANY_TOKENS: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message: "more than `limits.queryTokens` lexical tokens (graphql-js parser limit)",
  },
  QUERY_TOO_MANY_DIRECTIVES: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message: "more than 50 directives",
  },
  PART_INVALID: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message:
      "a message with no parts, or a part that does not set exactly one of text, imageId, visualRef",
  },
  TOO_MANY_PARTS: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message: "more than `limits.partsPerMessage` parts",
  },
  TEXT_TOO_LONG: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message: "a message's text over `limits.textLength` characters; a session title over 200",
  },
  TEXT_INVALID: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message:
      "a NUL character (U+0000), which neither database stores, in a session title, a message's text, any string of a task input or an idempotency key; `extensions.field` names it (`parts[0].text`, `task.rec.expression`). Nothing is written",
  },
  IMAGE_REQUIRED: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message:
      "a task whose plugin declares `requiresImage` (rec, res, ovd, ric, count) in a session with no image: neither this message nor an earlier one has an `imageId` part; `extensions.task` names it. Nothing is written",
  },
  SUBSCRIPTION_OVER_HTTP: {
    layer: "gateway",
    status: 400,
    retryable: false,
    message:
      "a subscription sent as an HTTP POST or GET: subscriptions run on the WebSocket only (graphql-ws at `/graphql`)",
  },
  HEADERS_TOO_LARGE: {
    layer: "gateway",
    status: 431,
    retryable: false,
    message:
      "request headers over Node's 16 KiB limit (e.g. a 64 KB `Authorization` header); the connection is closed",
  },
  OPTIONS_INVALID: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message:
      "`maxNewTokens` outside 1..`limits.maxNewTokens`, `temperature` outside 0..2, `topP` outside (0, 1], negative `topK` or `seed`, `repetitionPenalty` <= 0, `topK`/`topP`/`temperature > 0` with `doSample: false`, `doSample` with `temperature` 0. The engine refuses options it cannot honour with the same code",
  },
  IDEMPOTENCY_KEY_INVALID: {
    layer: "gateway",
    status: 200,
    retryable: false,
    message: "an `idempotencyKey` of 0 or more than 200 characters",
  },
  TOO_MANY_GENERATIONS: {
    layer: "gateway",
    status: 200,
    retryable: true,
    message:
      "the owner already has `limits.generationsPerOwner` generations queued or running (`retryAfterMs`: when the owner's first one is expected to end)",
  },
  TOO_MANY_SUBSCRIPTIONS: {
    layer: "gateway",
    status: null,
    statusNote: "WebSocket `error`",
    retryable: true,
    message:
      "more than `limits.subscriptionsPerSocket` operations at once on one socket, or `limits.subscriptionsPerOwner` on all the sockets of one owner (the key's owner; all its keys count together). The socket stays open",
  },
  SHUTTING_DOWN: {
    layer: "gateway",
    status: 503,
    retryable: true,
    message: "the server is draining (SIGTERM): new requests and new generations are refused",
  },
  METRICS_FORBIDDEN: {
    layer: "gateway",
    status: 403,
    retryable: false,
    message:
      "`/metrics` with no metrics token configured, from a client that is not on loopback or through a proxy (`Forwarded`, `X-Forwarded-For` or `X-Real-IP` present)",
  },
  INTERNAL_SERVER_ERROR: {
    layer: "gateway",
    status: 200,
    statusNote: "200 / 500",
    retryable: false,
    message: "anything unexpected; the message is hidden and the error logged",
  },
  INTERRUPTED: {
    layer: "gateway",
    status: null,
    statusNote: "message `error`",
    retryable: true,
    message:
      "the answer's server or worker stopped while generating (set when its lease expires, when a stopping worker hands it back, or at the next start-up of a single process; delivered as `MessageFailed`); the message keeps what it had streamed (text and visual references, from its stored events) in its parts",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Each code named by itself (`ErrorCode.NOT_FOUND === "NOT_FOUND"`), so codes survive serialisation. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_CATALOGUE).map((code) => [code, code])),
) as { readonly [C in ErrorCode]: C };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CATALOGUE, value);
}
