/**
 * A key revoked or expired while it is in use: HTTP refuses it on the next request, a new
 * WebSocket is refused at connection_init (4403), and an open one is closed with 4401 at the
 * next key check (keyCheckMs). Real HTTP and WebSocket clients (graphql-transport-ws spoken by
 * hand, to see the close code), a real database, the real engine (tiny bundle).
 */
import type { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { findApiKey } from "../src/db/repos/api_keys.js";
import { createApiKey, revokeApiKey } from "../src/index.js";
import { WsCloseCode } from "../src/server/ws.js";
import { loadTinyEngine } from "./helpers/engines.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let engine: PadtEngine;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(() => engine?.close());

interface Frame {
  type: string;
  id?: string;
  payload?: { data?: { viewer?: { id: string } } };
}

/** A graphql-transport-ws connection with `key`: acknowledged (or not), and how it closed. */
function openSocket(url: string, key: string) {
  const socket = new WebSocket(`${url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  const frames: Frame[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const acked = new Promise<boolean>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("open", () =>
      socket.send(
        JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }),
      ),
    );
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      frames.push(frame);
      if (frame.type === "connection_ack") resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  /** Runs `{ viewer { id } }` on the socket: the owner it answers for. */
  const viewer = (id: string) =>
    new Promise<string | undefined>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.id !== id || frame.type !== "next") return;
        socket.off("message", onMessage);
        resolve(frame.payload?.data?.viewer?.id);
      };
      socket.on("message", onMessage);
      socket.send(
        JSON.stringify({ id, type: "subscribe", payload: { query: "{ viewer { id } }" } }),
      );
    });
  return { socket, acked, closed, viewer };
}

describe.each(availableDatabaseKinds())("keys revoked or expired while in use on %s", (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, engine, { config: { keyCheckMs: 100 } });
  });
  afterAll(() => s?.close());

  const keyIdOf = async (key: string) => (await findApiKey(s.t.db, key))!.apiKey.id;

  it("closes the open sockets of a revoked key with 4401 and refuses it everywhere; the owner's other key goes on", async () => {
    const owner = await s.newKey("revoked");
    const other = await createApiKey(s.t.db, owner.ownerId);
    const keyId = await keyIdOf(owner.key);
    const first = openSocket(s.url, owner.key);
    const second = openSocket(s.url, owner.key);
    const kept = openSocket(s.url, other.key);
    expect(await Promise.all([first.acked, second.acked, kept.acked])).toEqual([true, true, true]);
    expect(await first.viewer("before")).toBe(owner.ownerId);

    await revokeApiKey(s.t.db, keyId);
    const closes = await Promise.all([first.closed, second.closed]);
    for (const close of closes) {
      expect(close).toEqual({
        code: WsCloseCode.KEY_NOT_ACTIVE,
        reason: "The API key was revoked or has expired",
      });
    }
    expect(WsCloseCode.KEY_NOT_ACTIVE).toBe(4401);

    const http = await s.gql("{ viewer { id } }", {}, owner.key);
    expect(http.status).toBe(401);
    expect(http.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const again = openSocket(s.url, owner.key);
    expect(await again.acked).toBe(false);
    expect((await again.closed).code).toBe(4403);

    // The same owner's other key, on HTTP and on its open socket, is untouched.
    expect((await s.gql("{ viewer { id } }", {}, other.key)).body.data.viewer.id).toBe(
      owner.ownerId,
    );
    expect(await kept.viewer("after")).toBe(owner.ownerId);
    expect(kept.socket.readyState).toBe(WebSocket.OPEN);
    kept.socket.close(1000);
  });

  it("closes a socket whose key expires while it is open", async () => {
    const { ownerId } = await s.newKey("expiring");
    const { key, apiKey } = await createApiKey(s.t.db, ownerId, {
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const socket = openSocket(s.url, key);
    expect(await socket.acked).toBe(true);
    // Expiry is nobody's action: only the periodic check can notice it.
    await s.t.db.execute(
      sql`update api_keys set expires_at = now() - interval '1 second' where id = ${apiKey.id}`,
    );
    expect((await socket.closed).code).toBe(4401);
    expect((await s.gql("{ viewer { id } }", {}, key)).status).toBe(401);
  });
});
