import type { IncomingMessage, ServerResponse } from "node:http";
import { ApolloServer, type ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { ErrorCode } from "@padt/protocol";
import type { GraphQLSchema } from "graphql";
import { GraphQLError, getOperationAST, parse } from "graphql";
import { authenticate } from "../auth.js";
import type { Limits } from "../config.js";
import { type Context, createContext, type Services } from "../graphql/context.js";
import { queryProtection } from "./armor.js";
import { formatError } from "./format_error.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { sendError } from "./respond.js";
import { tracingPlugin } from "./trace_plugin.js";

export interface ApolloOptions {
  schema: GraphQLSchema;
  services: Services;
  limits: Limits;
  production: boolean;
  metrics: Metrics;
  logger: Logger;
}

/** Subscriptions run on the WebSocket only (Apollo Server has none of its own). */
function subscriptionOverHttp(): GraphQLError {
  return new GraphQLError(
    "Subscriptions are served over the WebSocket: connect a graphql-ws client (subprotocol graphql-transport-ws) to ws://<this host>/graphql",
    { extensions: { code: ErrorCode.SUBSCRIPTION_OVER_HTTP, http: { status: 400 } } },
  );
}

/**
 * Does a GET request name a subscription? Apollo answers a GET of anything but a query with
 * 405 before any plugin sees it, so this looks first (GET queries are small: they fit a URL).
 */
function getNamesSubscription(url: URL, maxTokens: number): boolean {
  const query = url.searchParams.get("query");
  if (!query) return false;
  try {
    const document = parse(query, { maxTokens });
    const operation = getOperationAST(document, url.searchParams.get("operationName"));
    return operation?.operation === "subscription";
  } catch {
    return false; // Apollo reports the parse error
  }
}

export function createApollo(options: ApolloOptions): ApolloServer<Context> {
  const protection = queryProtection(options.limits, options.production);
  // graphql-armor's declarations name @apollo/server's CommonJS types; the plugins are the same objects.
  const armorPlugins = protection.plugins as unknown as ApolloServerPlugin<Context>[];
  const { metrics, logger } = options;
  return new ApolloServer<Context>({
    schema: options.schema,
    validationRules: protection.validationRules,
    allowBatchedHttpRequests: false,
    // Apollo would stop itself on SIGTERM/SIGINT and re-raise the signal (skipped only under
    // NODE_ENV=test), killing the process mid-drain: the gateway's drain is the only shutdown.
    stopOnTerminationSignals: false,
    // Off, as ERRORS.md says: a request carrying a persisted-query hash is answered
    // PERSISTED_QUERY_NOT_SUPPORTED, on which Apollo Client's link sends the full query.
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      tracingPlugin<Context>(),
      ...armorPlugins,
      {
        async requestDidStart() {
          return {
            async didResolveOperation(rc) {
              if (rc.operation?.operation === "subscription") throw subscriptionOverHttp();
            },
          };
        },
      },
      {
        async requestDidStart() {
          const started = performance.now();
          return {
            async willSendResponse(rc) {
              metrics.requestDuration.observe(
                { operation: rc.operation?.operation ?? "invalid" },
                (performance.now() - started) / 1000,
              );
            },
          };
        },
      },
    ],
    parseOptions: { maxTokens: options.limits.queryTokens },
    csrfPrevention: true,
    introspection: !options.production,
    hideSchemaDetailsFromClientErrors: options.production,
    formatError: (formatted, error) =>
      formatError(formatted, error, (e) => logger.error({ err: e }, "unexpected error")),
  });
}

/**
 * Our small adapter from Node's http to Apollo's executeHTTPGraphQLRequest (the pattern of
 * Apollo's own integrations): headers into a HeaderMap, a JSON body parsed (anything else is
 * passed on for Apollo to refuse), the response head and body written back, chunked or not.
 */
export async function handleGraphQL(
  apollo: ApolloServer<Context>,
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer | undefined,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  if (req.method === "GET" && getNamesSubscription(url, services.limits.queryTokens)) {
    const error = subscriptionOverHttp();
    sendError(res, 400, ErrorCode.SUBSCRIPTION_OVER_HTTP, error.message);
    return;
  }
  let parsed: unknown;
  if (req.method === "POST") {
    const text = body?.toString("utf8") ?? "";
    const mime = (headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (mime === "application/json") {
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        sendError(res, 400, ErrorCode.BAD_REQUEST, "The request body is not valid JSON");
        return;
      }
    } else {
      parsed = text;
    }
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body: parsed },
    context: async () => {
      const owner = await authenticate(services.db, req.headers.authorization);
      if (!owner) {
        throw new GraphQLError("A valid API key is required: Authorization: Bearer <key>", {
          extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
        });
      }
      return createContext(services, owner, { cache: true });
    },
  });
  res.statusCode = legacyStatus(response.status ?? 200, response.headers, response.body);
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (response.body.kind === "complete") {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** Errors of a well-formed request whose document or variables are wrong. */
const DOCUMENT_ERRORS = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "OPERATION_RESOLUTION_FAILURE",
  ErrorCode.QUERY_TOO_DEEP,
  ErrorCode.QUERY_TOO_COSTLY,
  ErrorCode.QUERY_TOO_MANY_ALIASES,
  ErrorCode.QUERY_TOO_MANY_TOKENS,
  ErrorCode.QUERY_TOO_MANY_DIRECTIVES,
]);

/**
 * GraphQL over HTTP: with the legacy `application/json` response type, a parse, validation or
 * variable-coercion failure SHOULD be a 200 (clients of that era read the errors from the
 * body); with `application/graphql-response+json` it is a 400, as Apollo answers.
 */
function legacyStatus(
  status: number,
  headers: HeaderMap,
  body: { kind: "complete"; string: string } | { kind: "chunked" },
): number {
  if (status !== 400 || body.kind !== "complete") return status;
  if (!(headers.get("content-type") ?? "").startsWith("application/json")) return status;
  try {
    const parsed = JSON.parse(body.string) as { errors?: { extensions?: { code?: string } }[] };
    const errors = parsed.errors ?? [];
    return errors.length > 0 && errors.every((e) => DOCUMENT_ERRORS.has(e.extensions?.code ?? ""))
      ? 200
      : status;
  } catch {
    return status;
  }
}
