import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";

/** The WebSocket's state: "reconnecting" once a connection was lost (or never made) and not yet back. */
export type ConnectionState = "connecting" | "online" | "reconnecting";

export interface PlaygroundClient {
  urql: Client;
  /** Calls `listener` with every change of the connection state; returns the unsubscribe. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Called when the WebSocket closes (streams then resume from their last seq). */
  onSocketClosed(listener: () => void): () => void;
  /** Closes the WebSocket now (the debug "drop connection" button and tests use it). */
  dropSocket(): void;
  dispose(): void;
}

/** An urql client for this origin's /graphql: HTTP for queries and mutations, graphql-ws for subscriptions. */
export function createPlaygroundClient(key: string): PlaygroundClient {
  const authorization = `Bearer ${key}`;
  const listeners = new Set<() => void>();
  const connection = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = "connecting";
  let disposed = false;
  const setState = (next: ConnectionState) => {
    if (next === state || disposed) return;
    state = next;
    for (const listener of connection) listener(next);
  };
  let socket: WebSocket | undefined;
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { authorization },
    // Always connected (with pings), so a dead server shows within a second, not at the next request.
    lazy: false,
    keepAlive: 5_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // A steady second between tries: the page comes back soon after the server does.
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 800 + Math.random() * 400)),
    // A refused key is not a network problem: retrying it cannot help.
    shouldRetry: (event) => !isAuthClose(event),
    on: {
      connected: (s) => {
        socket = s as WebSocket;
        setState("online");
      },
      closed: (event) => {
        socket = undefined;
        if (!isAuthClose(event)) setState("reconnecting");
        for (const listener of listeners) listener();
      },
    },
  });
  const urql = new Client({
    url: "/graphql",
    requestPolicy: "network-only",
    // POST always: Apollo refuses GETs without a preflight header (CSRF prevention).
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return {
    urql,
    onConnection(listener) {
      connection.add(listener);
      listener(state);
      return () => connection.delete(listener);
    },
    onSocketClosed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dropSocket: () => socket?.close(4499, "dropped by the user"),
    dispose: () => {
      disposed = true;
      void ws.dispose();
    },
  };
}

const isAuthClose = (event: unknown) => {
  const code = (event as { code?: number } | undefined)?.code;
  return code === 4401 || code === 4403;
};

/** Fetches an image with the key (GET /images/:id is authorized) and returns a blob URL. */
export async function fetchImageUrl(key: string, path: string): Promise<string> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) throw new Error(`Image ${path}: HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}
