import type { ResultOf } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { MessageEvents } from "./documents.js";

export type MessageEvent = ResultOf<typeof MessageEvents>["messageEvents"];

/**
 * Follows one answer's events over graphql-ws, from the event after `afterSeq`, calling
 * `onEvent` for each, until the answer ends or `onEvent` returns "drop": then the socket is cut
 * the way a network failure cuts it (no goodbye to the server), and this returns "dropped".
 */
export async function followMessage(
  url: string,
  key: string,
  messageId: string,
  afterSeq: number,
  onEvent: (event: MessageEvent) => "continue" | "drop",
): Promise<"ended" | "dropped"> {
  let socket: WebSocket | undefined;
  const client = createClient({
    url: `${url.replace(/^http/, "ws")}/graphql`,
    // Node 20 has no global WebSocket; `ws` is the usual one.
    webSocketImpl: WebSocket,
    // The key goes in connection_init: browsers cannot set headers on a WebSocket.
    connectionParams: { authorization: `Bearer ${key}` },
    // No silent reconnect: graphql-ws would re-send the same afterSeq and replay what we have.
    // Resuming is ours to do, with the last seq we saw.
    retryAttempts: 0,
    on: { connected: (s) => (socket = s as WebSocket) },
  });
  const events = client.iterate<ResultOf<typeof MessageEvents>>({
    query: print(MessageEvents),
    variables: { messageId, afterSeq },
  });
  try {
    for await (const result of events) {
      if (result.errors) throw new Error(result.errors.map((e) => e.message).join("; "));
      if (!result.data) continue;
      if (onEvent(result.data.messageEvents) === "drop") {
        socket?.terminate();
        return "dropped";
      }
    }
    // The server completes the subscription after the answer's last event.
    return "ended";
  } finally {
    await client.dispose();
  }
}
