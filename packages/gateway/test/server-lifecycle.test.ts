import type { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTinyEngine } from "./helpers/engines.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

/**
 * Audits that do not apply to this server, each with the reason. (Filled from the run: an
 * audit listed here is still executed and reported, only its failure is accepted.)
 */
const CSRF =
  "CSRF prevention (required) blocks GET requests that carry neither a JSON content-type nor a preflight header; GET queries work with `Apollo-Require-Preflight`";
const NOT_APPLICABLE: Record<string, string> = {
  "MAY accept application/x-www-form-urlencoded formatted GET requests": CSRF,
  "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json":
    CSRF,
  "MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json":
    CSRF,
};

// End to end: real HTTP clients, a real database, the real engine (tiny bundle).
let engine: PadtEngine;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(() => engine?.close());

describe.each(availableDatabaseKinds())("server lifecycle on %s", (kind) => {
  let s: TestServer;
  let key: string;
  beforeAll(async () => {
    s = await startTestServer(kind, engine);
    key = (await s.newKey()).key;
  });
  afterAll(() => s?.close());

  it("embedded mode: creates a local key once, stores it hashed and in a 0600 file", async () => {
    const { mkdtemp, readFile, stat } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { ensureLocalKey } = await import("../src/auth.js");
    const { findOwnerByApiKey, hashApiKey } = await import("../src/db/repos/api_keys.js");
    const dir = await mkdtemp(join(tmpdir(), "padt-key-"));
    const printed: string[] = [];
    const first = await ensureLocalKey(s.t.db, dir, (l) => printed.push(l));
    const second = await ensureLocalKey(s.t.db, dir, (l) => printed.push(l));
    expect(first.created).toBe(true);
    expect(second).toEqual({ key: first.key, created: false });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(first.key);
    const file = join(dir, "local-api-key");
    expect((await readFile(file, "utf8")).trim()).toBe(first.key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await findOwnerByApiKey(s.t.db, first.key)).toBeDefined();
    const { apiKeys } = await import("../src/db/schema.js");
    const rows = await s.t.db.select().from(apiKeys);
    expect(rows.some((r) => r.keyHash === hashApiKey(first.key))).toBe(true);
    expect(rows.every((r) => r.keyHash !== first.key)).toBe(true);
  });

  it("embedded mode: a revoked local key is replaced by a new key for the same owner", async () => {
    const { mkdtemp, readFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { ensureLocalKey } = await import("../src/auth.js");
    const { findApiKey, findOwnerByApiKey, revokeApiKey } = await import(
      "../src/db/repos/api_keys.js"
    );
    const dir = await mkdtemp(join(tmpdir(), "padt-key-"));
    const printed: string[] = [];
    const first = await ensureLocalKey(s.t.db, dir, (l) => printed.push(l));
    const found = await findApiKey(s.t.db, first.key);
    await revokeApiKey(s.t.db, found!.apiKey.id);
    const second = await ensureLocalKey(s.t.db, dir, (l) => printed.push(l));
    expect(second.created).toBe(true);
    expect(second.key).not.toBe(first.key);
    expect((await readFile(join(dir, "local-api-key"), "utf8")).trim()).toBe(second.key);
    expect((await findOwnerByApiKey(s.t.db, second.key))?.id).toBe(found!.owner.id);
    expect(await findOwnerByApiKey(s.t.db, first.key)).toBeUndefined();
    expect(printed).toHaveLength(2);
  });

  it("serves GET queries when the request carries a preflight header", async () => {
    const res = await fetch(`${s.url}/graphql?query=${encodeURIComponent("{ viewer { id } }")}`, {
      headers: { authorization: `Bearer ${key}`, "apollo-require-preflight": "1" },
    });
    expect(res.status).toBe(200);
    expect(
      ((await res.json()) as { data: { viewer: { id: string } } }).data.viewer.id,
    ).toBeTruthy();
  });

  describe("GraphQL over HTTP audits (graphql-http)", () => {
    // The audits' requests carry the API key, as any client's would.
    const authedFetch: typeof fetch = (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${key}`);
      return fetch(input, { ...init, headers });
    };
    for (const audit of serverAudits({ url: () => `${s.url}/graphql`, fetchFn: authedFetch })) {
      it(audit.name, async () => {
        const result = await audit.fn();
        if (result.status !== "ok" && NOT_APPLICABLE[audit.name]) return;
        if (result.status !== "ok") {
          const body = "response" in result ? await result.response.text().catch(() => "") : "";
          throw new Error(`${result.status}: ${result.reason} ${body}`);
        }
      });
    }
  });
});

describe("graceful shutdown", () => {
  it("fails readiness at once, refuses new requests, then closes", async () => {
    const s = await startTestServer(availableDatabaseKinds()[0]!, engine);
    const { key } = await s.newKey();
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    // A generation that outlasts the drain window: the tiny model never stops by itself, and
    // 4096 tokens take it about 20 s.
    const session = await s.gql(`mutation { createSession(input: {}) { id } }`, {}, key);
    const sent = await s.gql(
      `mutation($s: ID!) { sendMessage(input: { sessionId: $s, parts: [{ text: "hi" }], options: { maxNewTokens: 4096 } }) { assistantMessage { id } } }`,
      { s: session.body.data.createSession.id },
      key,
    );
    const messageId = sent.body.data.sendMessage.assistantMessage.id as string;
    const closing = s.gateway.close();
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const refused = await s.gql(`{ viewer { id } }`, {}, key);
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe("SHUTTING_DOWN");
    await closing;
    // The running generation got the drain window, then was cancelled, never "complete".
    const { getMessage } = await import("../src/db/repos/messages.js");
    const ownerId = (await s.t.db.query.messages.findFirst({
      where: (m, { eq }) => eq(m.id, messageId),
    }))!.ownerId;
    expect((await getMessage(s.t.db, ownerId, messageId))?.status).toBe("cancelled");
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
    await s.t.close();
  });
});
