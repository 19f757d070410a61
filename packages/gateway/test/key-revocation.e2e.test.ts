/**
 * A key revoked while its WebSocket streams a REC answer, as operators do it: `padt serve` and
 * `padt keys` as child processes (no NODE_ENV=test). On PostgreSQL `padt keys revoke` works
 * beside the running server: the socket closes with 4401, HTTP answers UNAUTHENTICATED, and
 * the owner's data stays as it was (the answer goes on as after any disconnect and is stored
 * complete). Embedded PGlite belongs to the running server, so there `padt keys` refuses,
 * writes nothing and disturbs no stream; it works once the server has stopped.
 */
import { randomUUID } from "node:crypto";
import { availableDatabaseKinds } from "@padt/testkit";
import { eq } from "drizzle-orm";
import { createClient } from "graphql-ws";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { findApiKey } from "../src/db/repos/api_keys.js";
import * as schema from "../src/db/schema.js";
import { createApiKey, type Database } from "../src/index.js";
import {
  killLeftovers,
  RANDOM_BUNDLE,
  type ServedCli,
  serveCli,
  startCli,
} from "./helpers/cli-process.js";
import { b64, png } from "./helpers/png.js";
import type { GqlBody } from "./helpers/server.js";

afterEach(killLeftovers);

/** Fast key checks; a long cancel grace, so the answer outlives its closed socket (see the README). */
const ENV = { PADT_KEY_CHECK_MS: "200", PADT_CANCEL_GRACE_MS: "600000" };

async function gql(url: string, key: string, query: string, variables = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GqlBody };
}

/** An image, a session and a REC request on it; the assistant message's id. */
async function sendRec(s: ServedCli, key: string, maxNewTokens: number) {
  const image = await gql(
    s.url,
    key,
    `mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`,
    {
      b: b64(png(120, 80, 3)),
    },
  );
  const session = await gql(s.url, key, `mutation { createSession(input: {title: "rec"}) { id } }`);
  const sent = await gql(
    s.url,
    key,
    `mutation($s: ID!, $i: ID!, $n: Int!) { sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }],
      task: { rec: { expression: "the square" } }, options: { maxNewTokens: $n } }) { assistantMessage { id } } }`,
    { s: session.body.data.createSession.id, i: image.body.data.uploadImage.id, n: maxNewTokens },
  );
  expect(sent.body.errors).toBeUndefined();
  return {
    imageId: image.body.data.uploadImage.id as string,
    messageId: sent.body.data.sendMessage.assistantMessage.id as string,
  };
}

/**
 * Streams the answer's events over graphql-ws; `onFirstEvent` runs once the answer streams.
 * Resolves with how the stream ended: completed, or the server's close code. `untilClosed`:
 * the socket stays open after the answer completes (as a chat page's does), and the result is
 * its close code whenever it comes, so an answer that ends before the key check runs still
 * shows whether the socket of a revoked key was closed.
 */
function stream(
  s: ServedCli,
  key: string,
  messageId: string,
  onFirstEvent: () => Promise<void>,
  untilClosed = false,
): Promise<{ events: string[]; end: "complete" | { code: number; reason: string } }> {
  let closed: ((end: { code: number; reason: string }) => void) | undefined;
  const client = createClient({
    url: `${s.url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: !untilClosed,
    on: {
      closed: (e) => {
        const close = e as { code?: number; reason?: string };
        if (typeof close.code === "number")
          closed?.({ code: close.code, reason: close.reason ?? "" });
      },
    },
  });
  const events: string[] = [];
  let started: Promise<void> | undefined;
  return new Promise((resolve, reject) => {
    client.subscribe(
      {
        query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) { __typename } }`,
        variables: { m: messageId },
      },
      {
        next: (r) => {
          events.push((r as GqlBody).data?.messageEvents.__typename);
          started ??= onFirstEvent().catch(reject);
        },
        error: (e) => {
          const close = e as { code?: number; reason?: string };
          if (typeof close.code !== "number") return reject(e);
          void started?.then(() =>
            resolve({ events, end: { code: close.code!, reason: close.reason ?? "" } }),
          );
        },
        complete: () => {
          if (untilClosed) closed = (end) => void started?.then(() => resolve({ events, end }));
          else void started?.then(() => resolve({ events, end: "complete" }));
        },
      },
    );
  }).finally(() => client.dispose()) as Promise<{
    events: string[];
    end: "complete" | { code: number; reason: string };
  }>;
}

/** The owner's sessions, messages and images, as rows (the running answer's progress left out). */
async function ownerData(db: Database, ownerId: string, answerId: string) {
  const sessions = await db.query.sessions.findMany({
    where: (t, { eq }) => eq(t.ownerId, ownerId),
  });
  const messages = await db.query.messages.findMany({
    where: (t, { eq }) => eq(t.ownerId, ownerId),
  });
  const images = await db.query.images.findMany({
    where: (t, { eq }) => eq(t.ownerId, ownerId),
    columns: { data: false },
  });
  return {
    sessions: sessions.map(({ updatedAt: _, ...rest }) => rest),
    messages: messages.map((m) =>
      m.id === answerId ? { id: m.id, role: m.role, sessionId: m.sessionId } : m,
    ),
    images,
  };
}

/** Waits until the answer has finished (read with another key of the owner): its status. */
async function finished(url: string, key: string, messageId: string): Promise<string> {
  for (;;) {
    const r = await gql(url, key, `query($m: ID!) { message(id: $m) { status } }`, {
      m: messageId,
    });
    const status = r.body.data?.message?.status as string | undefined;
    if (status && status !== "PENDING" && status !== "STREAMING") return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(availableDatabaseKinds().includes("postgres"))(
  "padt keys revoke on postgres",
  () => {
    it("closes the streaming socket with 4401, refuses HTTP with UNAUTHENTICATED, changes none of the owner's data", async () => {
      const s = await serveCli("postgres", { args: ["--model", RANDOM_BUNDLE], env: ENV });
      const handle = await s.openDatabase();
      try {
        const databaseUrl = s.args[s.args.indexOf("--database-url") + 1]!;
        const { owner, apiKey } = (await findApiKey(handle.db, s.key))!;
        // A second key of the same owner, to read what became of the owner's data.
        const spare = await createApiKey(handle.db, owner.id);
        const { imageId, messageId } = await sendRec(s, s.key, 1500);
        let before: Awaited<ReturnType<typeof ownerData>> | undefined;
        let revoke: ReturnType<typeof startCli> | undefined;

        const { events, end } = await stream(
          s,
          s.key,
          messageId,
          async () => {
            before = await ownerData(handle.db, owner.id, messageId);
            revoke = startCli(["keys", "revoke", apiKey.id, "--database-url", databaseUrl]);
            expect((await revoke.exited).code).toBe(0);
          },
          true,
        );
        expect(revoke!.stdout()).toContain(`revoked: key ${apiKey.id}`);
        expect(revoke!.stdout()).not.toContain(s.key);
        expect(events.length).toBeGreaterThan(0);
        expect(end).toEqual({ code: 4401, reason: "The API key was revoked or has expired" });

        const http = await gql(s.url, s.key, "{ viewer { id } }");
        expect(http.status).toBe(401);
        expect(http.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
        const image = await fetch(`${s.url}/images/${imageId}`, {
          headers: { authorization: `Bearer ${s.key}` },
        });
        expect(image.status).toBe(401);

        // The answer was not cut short by the revocation: it finished and was stored.
        expect(await finished(s.url, spare.key, messageId)).toBe("COMPLETE");
        expect(await ownerData(handle.db, owner.id, messageId)).toEqual(before);
        const [row] = await handle.db
          .select()
          .from(schema.apiKeys)
          .where(eq(schema.apiKeys.id, apiKey.id));
        expect(row?.revokedAt).toBeInstanceOf(Date);
      } finally {
        await handle.close();
        await s.cleanup();
      }
    });
  },
);

describe("padt keys beside a running server on pglite", () => {
  it("refuses while the server holds the database, without disturbing the stream; revokes once it stopped", async () => {
    const s = await serveCli("pglite", { args: ["--model", RANDOM_BUNDLE], env: ENV });
    try {
      const { messageId } = await sendRec(s, s.key, 200);
      let refused: ReturnType<typeof startCli> | undefined;
      const { end } = await stream(s, s.key, messageId, async () => {
        refused = startCli(["keys", "revoke", randomUUID(), "--data-dir", s.dataDir]);
        expect((await refused.exited).code).toBe(1);
      });
      expect(refused!.stdout()).toBe("");
      expect(refused!.stderr()).toContain("DATA_DIR_LOCKED");
      expect(refused!.stderr()).toContain("stop the server first");
      expect(end).toBe("complete");
      expect((await gql(s.url, s.key, "{ viewer { id } }")).status).toBe(200);

      s.proc.child.kill("SIGTERM");
      expect((await s.proc.exited).code).toBe(0);
      const list = startCli(["keys", "list", "--json", "--data-dir", s.dataDir]);
      expect((await list.exited).code).toBe(0);
      const [local] = JSON.parse(list.stdout()) as {
        id: string;
        status: string;
        lastUsedAt: string;
      }[];
      expect(local).toMatchObject({ status: "active", lastUsedAt: expect.any(String) });
      const revoke = startCli(["keys", "revoke", local!.id, "--data-dir", s.dataDir]);
      expect((await revoke.exited).code).toBe(0);
      const after = startCli(["keys", "list", "--json", "--data-dir", s.dataDir]);
      expect((await after.exited).code).toBe(0);
      expect(JSON.parse(after.stdout())).toMatchObject([{ id: local!.id, status: "revoked" }]);
    } finally {
      await s.cleanup();
    }
  });
});
