import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { ErrorCode } from "@padt/protocol";
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
import { type WebSocket, WebSocketServer } from "ws";
import { authenticateKey } from "../auth.js";
import type { Limits } from "../config.js";
import type { Owner } from "../db/schema.js";
import { createContext, type Services } from "../graphql/context.js";
import { formatGraphQLError } from "./format_error.js";
import { watchSocketKeys } from "./key_watch.js";
import type { Logger } from "./logger.js";

interface SocketState {
  owner?: Owner;
  /** The key the socket was opened with, and the socket, once authenticated. */
  keyId?: string;
  socket?: WebSocket;
  operations: Set<string>;
}

/**
 * Close codes this server sends besides graphql-ws's own (4400-4499); ERRORS.md lists them.
 * Both are codes graphql-ws clients retry on (with their back-off).
 */
export const WsCloseCode = {
  /** The server is draining (SIGTERM): reconnect, to another instance or after the restart. */
  SERVICE_RESTART: 1012,
  /** The key's owner already has `limits.socketsPerOwner` sockets open. */
  TOO_MANY_SOCKETS: 1013,
  /**
   * The socket's key was revoked or expired while it was open (graphql-ws's own
   * "Unauthorized" code, which its client does not retry).
   */
  KEY_NOT_ACTIVE: 4401,
} as const;

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
  /** How often the keys of open sockets are checked again (config.keyCheckMs). */
  keyCheckMs: number;
}

/**
 * graphql-ws on the HTTP server's port and path. Apollo's plugins and validation rules do
 * not run here, so this applies the same ones itself: auth in onConnect (connectionParams
 * `authorization`, "Bearer <key>" or the bare key; refused: close 4403), the token limit
 * when parsing, graphql-armor's rules when validating, at most `subscriptionsPerSocket`
 * operations at a time on a socket and `subscriptionsPerOwner` on all of an owner's
 * sockets, at most `socketsPerOwner` sockets (close 1013), and ws's maxPayload. While the
 * server drains, a new socket is closed at once with 1012 (service restart). A socket whose
 * key is revoked or expires is closed with 4401 within `keyCheckMs` (key_watch.ts).
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
  /** The authenticated sockets of each owner. */
  const byOwner = new Map<string, Set<SocketState>>();
  const operationsOf = (ownerId: string) => {
    let n = 0;
    for (const state of byOwner.get(ownerId) ?? []) n += state.operations.size;
    return n;
  };
  const restarting = (socket: WebSocket) =>
    socket.close(WsCloseCode.SERVICE_RESTART, "The server is restarting: reconnect");
  // Upgrades are handled here (noServer), so a socket that arrives during the drain is
  // closed before graphql-ws sees it, with a code that does not read as a refused key.
  const wss = new WebSocketServer({
    noServer: true,
    path: options.path,
    maxPayload: limits.wsPayloadBytes,
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!options.accepting()) return restarting(ws);
      wss.emit("connection", ws, req);
    });
  };
  options.server.on("upgrade", onUpgrade);
  const rules = [...specifiedRules, ...options.validationRules];
  const log = (e: unknown) => logger.error({ err: e }, "unexpected error (ws)");
  const disposable = useServer(
    {
      schema,
      onConnect: async (ctx) => {
        // graphql-ws closes with 4403 on false; a socket closed first keeps its own code.
        if (!options.accepting()) {
          restarting(ctx.extra.socket);
          return false;
        }
        const identity = await authenticateKey(services.db, ctx.connectionParams?.authorization);
        if (!identity) return false;
        const { owner } = identity;
        const sockets = byOwner.get(owner.id) ?? new Set();
        if (sockets.size >= limits.socketsPerOwner) {
          ctx.extra.socket.close(
            WsCloseCode.TOO_MANY_SOCKETS,
            `At most ${limits.socketsPerOwner} WebSockets at once per owner (all its keys)`,
          );
          return false;
        }
        const state = stateOf(ctx.extra);
        state.owner = owner;
        state.keyId = identity.keyId;
        state.socket = ctx.extra.socket;
        sockets.add(state);
        byOwner.set(owner.id, sockets);
        return true;
      },
      onClose: (ctx) => {
        const state = states.get(ctx.extra);
        if (!state?.owner) return;
        const sockets = byOwner.get(state.owner.id);
        sockets?.delete(state);
        if (sockets?.size === 0) byOwner.delete(state.owner.id);
      },
      onSubscribe: (ctx, id, payload) => {
        const state = stateOf(ctx.extra);
        if (!state.owner)
          return [
            new GraphQLError("Not authenticated", {
              extensions: { code: ErrorCode.UNAUTHENTICATED },
            }),
          ];
        if (state.operations.size >= limits.subscriptionsPerSocket) {
          return [
            new GraphQLError(`At most ${limits.subscriptionsPerSocket} operations per socket`, {
              extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS },
            }),
          ];
        }
        if (operationsOf(state.owner.id) >= limits.subscriptionsPerOwner) {
          return [
            new GraphQLError(
              `At most ${limits.subscriptionsPerOwner} operations at once per owner, on all its sockets`,
              { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS } },
            ),
          ];
        }
        let document: ExecutionArgs["document"];
        try {
          document = parse(payload.query, { maxTokens: limits.queryTokens });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const code = /tokens/i.test(message)
            ? ErrorCode.QUERY_TOO_MANY_TOKENS
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
      onError: (ctx, id, _payload, errors) => {
        // An operation that fails ends without onComplete.
        stateOf(ctx.extra).operations.delete(id);
        return errors.map((e) => formatGraphQLError(e, log));
      },
      onComplete: (ctx, id) => {
        stateOf(ctx.extra).operations.delete(id);
      },
    },
    wss,
  );
  const keyWatch = watchSocketKeys({
    db: services.db,
    intervalMs: options.keyCheckMs,
    logger,
    *sockets() {
      for (const states of byOwner.values())
        for (const { keyId, socket } of states)
          if (keyId && socket)
            yield {
              keyId,
              close: () =>
                socket.close(WsCloseCode.KEY_NOT_ACTIVE, "The API key was revoked or has expired"),
            };
    },
  });
  return {
    wss,
    /** Closes every socket (1001 going away) and stops the server. */
    async close() {
      await keyWatch.stop();
      options.server.off("upgrade", onUpgrade);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
