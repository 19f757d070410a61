import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";

export interface PlaygroundClient {
  urql: Client;
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
  let socket: WebSocket | undefined;
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { authorization },
    lazy: true,
    retryAttempts: 20,
    shouldRetry: () => true,
    on: {
      connected: (s) => {
        socket = s as WebSocket;
      },
      closed: () => {
        socket = undefined;
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
    onSocketClosed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dropSocket: () => socket?.close(4499, "dropped by the user"),
    dispose: () => void ws.dispose(),
  };
}

/** Fetches an image with the key (GET /images/:id is authorized) and returns a blob URL. */
export async function fetchImageUrl(key: string, path: string): Promise<string> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) throw new Error(`Image ${path}: HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}
