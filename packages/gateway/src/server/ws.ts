import type { Server } from "node:http";
import {
  type ExecutionArgs,
  GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { authenticate } from "../auth.js";
import type { Limits } from "../config.js";
import type { Owner } from "../db/schema.js";
import { GatewayErrorCode } from "../errors.js";
import { createContext, type Services } from "../graphql/context.js";
import { formatGraphQLError } from "./format_error.js";
import type { Logger } from "./logger.js";

interface SocketState {
  owner?: Owner;
  operations: Set<string>;
}

export interface WsOptions {
  server: Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  limits: Limits;
  /** graphql-armor's rules, the same ones Apollo runs on HTTP. */
  validationRules: ValidationRule[];
  logger: Logger;
  /** False while shutting down: new connections are refused. */
  accepting: () => boolean;
}

/**
 * graphql-ws on the HTTP server's port and path. Apollo's plugins and validation rules do
 * not run here, so this applies the same ones itself: auth in onConnect (connectionParams
 * `authorization`, "Bearer <key>" or the bare key; refused: close 4403), the token limit
 * when parsing, graphql-armor's rules when validating, at most `subscriptionsPerSocket`
 * operations at a time, and ws's maxPayload.
 */
export function attachWebSocket(options: WsOptions) {
  const { services, limits, schema, logger } = options;
  const states = new WeakMap<object, SocketState>();
  const stateOf = (extra: object) => {
    let state = states.get(extra);
    if (!state) {
      state = { operations: new Set() };
      states.set(extra, state);
    }
    return state;
  };
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path,
    maxPayload: limits.wsPayloadBytes,
  });
  const rules = [...specifiedRules, ...options.validationRules];
  const log = (e: unknown) => logger.error({ err: e }, "unexpected error (ws)");
  const disposable = useServer(
    {
      schema,
      onConnect: async (ctx) => {
        if (!options.accepting()) return false;
        const owner = await authenticate(services.db, ctx.connectionParams?.authorization);
        if (!owner) return false;
        stateOf(ctx.extra).owner = owner;
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const state = stateOf(ctx.extra);
        if (!state.owner)
          return [
            new GraphQLError("Not authenticated", {
              extensions: { code: GatewayErrorCode.UNAUTHENTICATED },
            }),
          ];
        if (state.operations.size >= limits.subscriptionsPerSocket) {
          return [
            new GraphQLError(`At most ${limits.subscriptionsPerSocket} operations per socket`, {
              extensions: { code: GatewayErrorCode.TOO_MANY_SUBSCRIPTIONS },
            }),
          ];
        }
        let document: ExecutionArgs["document"];
        try {
          document = parse(payload.query, { maxTokens: limits.queryTokens });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const code = /tokens/i.test(message)
            ? GatewayErrorCode.QUERY_TOO_MANY_TOKENS
            : "GRAPHQL_PARSE_FAILED";
          return [new GraphQLError(message, { extensions: { code } })];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) {
          return errors.map(
            (e) =>
              new GraphQLError(e.message, {
                nodes: e.nodes,
                extensions: formatGraphQLError(e).extensions,
              }),
          );
        }
        state.operations.add(id);
        return {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: createContext(services, state.owner, { cache: false }),
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((e) => formatGraphQLError(e, log)) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatGraphQLError(e, log)),
      onComplete: (ctx, id) => {
        stateOf(ctx.extra).operations.delete(id);
      },
    },
    wss,
  );
  return {
    wss,
    /** Closes every socket (1001 going away) and stops the server. */
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
