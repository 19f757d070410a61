/**
 * `padt serve` stopped the way operators stop it (SIGTERM from a supervisor, Ctrl-C), as a
 * child process without NODE_ENV=test: Apollo Server installs signal handlers of its own
 * and skips them only under NODE_ENV=test, so an in-process test cannot see them.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { createClient } from "graphql-ws";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { killLeftovers, RANDOM_BUNDLE, type ServedCli, serveCli } from "./helpers/cli-process.js";
import type { GqlBody } from "./helpers/server.js";

afterEach(killLeftovers);

async function gql(s: ServedCli, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${s.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${s.key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlBody;
}

/** Opens a graphql-ws connection as a client would (connection_init with the key) and reports how the server closes it. */
function closeOfNewSocket(s: ServedCli): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(`${s.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  socket.on("open", () =>
    socket.send(
      JSON.stringify({
        type: "connection_init",
        payload: { authorization: `Bearer ${s.key}` },
      }),
    ),
  );
  return new Promise((resolve, reject) => {
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.once("error", reject);
  });
}

/** A graphql-ws failure in a line: a close event's code and reason, or the error. */
function describeEnd(e: unknown): string {
  const close = e as { code?: number; reason?: string };
  return typeof close.code === "number" ? `socket closed ${close.code} ${close.reason}` : String(e);
}

describe.each(availableDatabaseKinds())("padt serve on %s, stopped by a signal", (kind) => {
  it.each(["SIGTERM", "SIGINT"] as const)("idle: %s drains and exits 0", async (signal) => {
    const s = await serveCli(kind);
    try {
      s.proc.child.kill(signal);
      expect(await s.proc.exited).toEqual({ code: 0, signal: null });
      expect(s.proc.stderr()).toContain(`${signal}: draining`);
    } finally {
      await s.cleanup();
    }
  });

  it("SIGTERM with an answer running: readyz 503 and new sockets 1012 meanwhile, the answer completes, exit 0", async () => {
    const s = await serveCli(kind, { args: ["--model", RANDOM_BUNDLE] });
    try {
      const session = await gql(s, `mutation { createSession(input: {}) { id } }`);
      const sent = await gql(
        s,
        `mutation($s: ID!) { sendMessage(input: { sessionId: $s, parts: [{ text: "hi" }], options: { maxNewTokens: 800 } }) { assistantMessage { id } } }`,
        { s: session.data.createSession.id },
      );
      expect(sent.errors).toBeUndefined();
      const messageId = sent.data.sendMessage.assistantMessage.id as string;

      const client = createClient({
        url: `${s.url.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${s.key}` },
        retryAttempts: 0,
      });
      let text = "";
      const during: { readyz?: [number, unknown]; socket?: { code: number; reason: string } } = {};
      let last: GqlBody["data"];
      await new Promise<void>((resolve, reject) => {
        let signalled = false;
        client.subscribe(
          {
            query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
              __typename ... on TextDelta { text } ... on MessageCompleted { message { status } } } }`,
            variables: { m: messageId },
          },
          {
            next: (r) => {
              const event = (r as GqlBody).data?.messageEvents;
              last = event;
              if (event?.__typename === "TextDelta") text += event.text;
              if (signalled) return;
              signalled = true;
              // The answer is running: stop the server, and look at it while it drains.
              s.proc.child.kill("SIGTERM");
              void (async () => {
                await s.proc.waitFor(/SIGTERM: draining/);
                const ready = await fetch(`${s.url}/readyz`);
                during.readyz = [ready.status, await ready.json()];
                during.socket = await closeOfNewSocket(s);
              })().catch(reject);
            },
            error: (e) => reject(new Error(`the subscription failed: ${describeEnd(e)}`)),
            complete: resolve,
          },
        );
      });
      await client.dispose();

      expect(during.readyz).toEqual([503, { status: "draining" }]);
      expect(during.socket?.code).toBe(1012);
      expect(last).toEqual({ __typename: "MessageCompleted", message: { status: "COMPLETE" } });
      expect(text.length).toBeGreaterThan(0);
      expect(await s.proc.exited).toEqual({ code: 0, signal: null });

      // Stored as it streamed: complete, with the whole text.
      const handle = await s.openDatabase();
      try {
        const row = await handle.db.query.messages.findFirst({
          where: (m, { eq }) => eq(m.id, messageId),
        });
        expect(row?.status).toBe("complete");
        const parts = await handle.db.query.messageParts.findMany({
          where: (p, { eq }) => eq(p.messageId, messageId),
          orderBy: (p, { asc }) => asc(p.ordinal),
        });
        expect(parts.map((p) => p.text ?? "").join("")).toBe(text);
      } finally {
        await handle.close();
      }
    } finally {
      await s.cleanup();
    }
  });
});
