import { existsSync } from "node:fs";
import { join } from "node:path";
import type { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertExchange } from "../src/db/repos/exchange.js";
import { putImage } from "../src/db/repos/images.js";
import { finishMessage } from "../src/db/repos/transitions.js";
import * as schema from "../src/db/schema.js";
import { defaultPlaygroundDir } from "../src/index.js";
import { loadTinyEngine, occupy } from "./helpers/engines.js";
import { newOwner } from "./helpers/fixtures.js";
import { b64, png, SVG } from "./helpers/png.js";
import { collect, startTestServer, type TestServer } from "./helpers/server.js";

const IMAGE = "id sha256 width height mimeType url gridWidth gridHeight";
const UPLOAD = `mutation($b: String!, $m: String) { uploadImage(input: { base64: $b, mimeType: $m }) { ${IMAGE} } }`;
const CREATE = `mutation($t: String) { createSession(input: { title: $t }) { id title createdAt updatedAt } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  userMessage { id role status task text parts { __typename ... on TextPart { text } ... on ImagePart { image { id } } ... on VisualRefPart { ref { id patches image { id } } } } }
  assistantMessage { id role status lastSeq }
} }`;

/** Enough tokens that an answer is still running when the test cancels it (the tiny model never stops). */
const OPEN = { maxNewTokens: 4096 };
const CANCEL = `mutation($id: ID!) { cancelGeneration(messageId: $id) { id status } }`;
const EVENTS = `subscription($id: ID!) { messageEvents(messageId: $id) { __typename ... on MessageFailed { error { code message } } } }`;

// End to end: real HTTP and graphql-ws clients, a real database, the real engine (tiny bundle).
let engine: PadtEngine;
beforeAll(async () => {
  engine = await loadTinyEngine();
});
afterAll(() => engine?.close());

describe.each(availableDatabaseKinds())("gateway API over HTTP and WebSocket on %s", (kind) => {
  let s: TestServer;
  let a: { key: string; ownerId: string };
  let b: { key: string; ownerId: string };
  beforeAll(async () => {
    s = await startTestServer(kind, engine);
    a = await s.newKey("a");
    b = await s.newKey("b");
  });
  afterAll(() => s?.close());

  const upload = async (key: string, bytes: Uint8Array) => {
    const r = await s.gql(UPLOAD, { b: b64(bytes) }, key);
    expect(r.body.errors).toBeUndefined();
    return r.body.data.uploadImage as {
      id: string;
      gridWidth: number;
      gridHeight: number;
      sha256: string;
    };
  };
  const session = async (key: string, title = "chat") =>
    (await s.gql(CREATE, { t: title }, key)).body.data.createSession as { id: string };

  it("model.serving in --role all is this process: one worker, the engine's capacity, its provider", async () => {
    const r = await s.gql(
      "{ model { executionProvider serving { workers capacity inFlight executionProviders } } }",
      {},
      a.key,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.model.serving).toEqual({
      workers: 1,
      capacity: engine.stats().slots,
      inFlight: 0,
      executionProviders: [r.body.data.model.executionProvider],
    });
  });

  async function counts() {
    const [m] = await s.t.db.select({ n: count() }).from(schema.messages);
    const [i] = await s.t.db.select({ n: count() }).from(schema.images);
    const [p] = await s.t.db.select({ n: count() }).from(schema.messageParts);
    const [ss] = await s.t.db.select({ n: count() }).from(schema.sessions);
    return { messages: m!.n, images: i!.n, parts: p!.n, sessions: ss!.n };
  }

  describe("authentication", () => {
    it("refuses a missing or unknown key on HTTP with 401 UNAUTHENTICATED", async () => {
      for (const key of [null, "padt_not-a-key", "Bearer"]) {
        const r = await s.gql("{ viewer { id } }", {}, key);
        expect(r.status).toBe(401);
        expect(r.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
        expect(r.body.data ?? null).toBeNull();
      }
      const ok = await s.gql("{ viewer { id name } }", {}, a.key);
      expect(ok.body.data.viewer.id).toBe(a.ownerId);
    });

    it("refuses a missing or unknown key on the WebSocket (closed with 4403)", async () => {
      for (const key of [null, "padt_wrong"]) {
        const { error } = await collect(s.ws(key), "{ viewer { id } }");
        expect((error as { code?: number }).code).toBe(4403);
      }
      const { results } = await collect(s.ws(a.key), "{ viewer { id } }");
      expect(results[0]?.data.viewer.id).toBe(a.ownerId);
    });
  });

  describe("sessions", () => {
    it("create, rename, list with cursor pagination, delete", async () => {
      const owner = await s.newKey();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await session(owner.key, `s${i}`)).id);
      const renamed = await s.gql(
        `mutation($id: ID!) { renameSession(id: $id, title: "renamed") { id title } }`,
        { id: ids[0] },
        owner.key,
      );
      expect(renamed.body.data.renameSession).toEqual({ id: ids[0], title: "renamed" });
      const page = `query($after: String) { sessions(first: 2, after: $after) { edges { cursor node { id title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 3; i++) {
        const r = await s.gql(page, { after }, owner.key);
        const conn = r.body.data.sessions;
        seen.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
        after = conn.pageInfo.endCursor;
        expect(conn.pageInfo.hasNextPage).toBe(i < 2);
      }
      expect(seen).toEqual([...ids].reverse()); // newest first
      const del = await s.gql(
        `mutation($id: ID!) { deleteSession(id: $id) }`,
        { id: ids[1] },
        owner.key,
      );
      expect(del.body.data.deleteSession).toBe(true);
      const gone = await s.gql(
        `query($id: ID!) { session(id: $id) { id } }`,
        { id: ids[1] },
        owner.key,
      );
      expect(gone.body.data.session).toBeNull();
      const bad = await s.gql(`{ sessions(after: "garbage") { edges { cursor } } }`, {}, owner.key);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe("INVALID_CURSOR");
    });
  });

  describe("images", () => {
    it("upload as base64: content-addressed, with the model's grid; node(id) finds it", async () => {
      const bytes = png(200, 120, 1);
      const first = await upload(a.key, bytes);
      const again = await upload(a.key, bytes);
      expect(again.id).toBe(first.id);
      expect(first).toMatchObject({
        width: 200,
        height: 120,
        mimeType: "image/png",
        url: `/images/${first.id}`,
      });
      expect(first.gridWidth).toBeGreaterThan(0);
      expect(first.gridHeight).toBeGreaterThan(0);
      const node = await s.gql(
        `query($id: ID!) { node(id: $id) { __typename id } }`,
        { id: first.id },
        a.key,
      );
      expect(node.body.data.node).toEqual({ __typename: "Image", id: first.id });
    });

    it("upload as multipart only with the preflight header; bytes served back to the owner only", async () => {
      const bytes = png(90, 70, 2);
      const form = () => {
        const f = new FormData();
        f.set("file", new Blob([Buffer.from(bytes)], { type: "image/png" }), "x.png");
        return f;
      };
      const before = await counts();
      const noPreflight = await fetch(`${s.url}/images`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.key}` },
        body: form(),
      });
      expect(noPreflight.status).toBe(400);
      expect(
        ((await noPreflight.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!
          .extensions.code,
      ).toBe("CSRF_PREFLIGHT_REQUIRED");
      expect(await counts()).toEqual(before);
      const res = await fetch(`${s.url}/images`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.key}`, "apollo-require-preflight": "true" },
        body: form(),
      });
      expect(res.status).toBe(200);
      const image = (await res.json()) as {
        id: string;
        url: string;
        width: number;
        sha256: string;
      };
      expect(image.width).toBe(90);

      const mine = await fetch(`${s.url}${image.url}`, {
        headers: { authorization: `Bearer ${a.key}` },
      });
      expect(mine.status).toBe(200);
      expect(mine.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await mine.arrayBuffer())).toEqual(Buffer.from(bytes));
      const theirs = await fetch(`${s.url}${image.url}`, {
        headers: { authorization: `Bearer ${b.key}` },
      });
      expect(theirs.status).toBe(404);
      const nobody = await fetch(`${s.url}${image.url}`);
      expect(nobody.status).toBe(401);
    });
  });

  describe("history", () => {
    /** A session of `n` exchanges written straight to the database, each answer with a decoded ref. */
    async function history(n: number) {
      const owner = await newOwner(s.t.db);
      const { createApiKey } = await import("../src/index.js");
      const { createSession } = await import("../src/db/repos/sessions.js");
      const { key } = await createApiKey(s.t.db, owner.id);
      const sess = await createSession(s.t.db, owner.id, { title: "h" });
      for (let i = 0; i < n; i++) {
        const image = await putImage(s.t.db, owner.id, {
          bytes: png(56, 56, 100 + i),
          width: 56,
          height: 56,
          mimeType: "image/png",
          grid: { gridWidth: 23, gridHeight: 23 }, // what the tiny engine answers for 56x56
        });
        const ex = await insertExchange(s.t.db, owner.id, {
          sessionId: sess.id,
          parts: [
            { kind: "text", text: `find ${i}` },
            { kind: "image", imageId: image.id },
          ],
          task: "rec",
          taskInput: { expression: `thing ${i}` },
        });
        await finishMessage(s.t.db, owner.id, ex.assistantMessage.id, {
          status: "complete",
          parts: [
            { kind: "text", text: 'The "thing" is ' },
            {
              kind: "visual_ref",
              imageId: image.id,
              refIndex: 0,
              label: "thing",
              patches: [0, 1],
              decoded: true,
              box: { x: 1, y: 2, width: 3, height: 4 },
              mask: { height: 56, width: 56, counts: "PPh0", area: 1 },
              score: 0.5,
            },
          ],
          result: {
            result: { expression: `thing ${i}`, object: { index: 0, label: "thing" } },
            partial: false,
            issues: [],
          },
        });
      }
      return { key, sessionId: sess.id };
    }
    const PAGE = `query($id: ID!) { session(id: $id) { id messages(last: 50) { edges { node {
      id role status task text lastSeq createdAt
      parts { __typename ... on TextPart { text } ... on ImagePart { image { id width gridWidth } } ... on VisualRefPart { ref { id label patches decoded } } }
      visualRefs { id box { x } mask { counts } score image { id } }
      result { __typename ... on RecResult { expression partial ref { id label } } }
    } } pageInfo { hasPreviousPage } } } }`;

    it("costs a fixed number of queries whatever the page size", async () => {
      const small = await history(2);
      const large = await history(7);
      s.t.queries.count = 0;
      const r1 = await s.gql(PAGE, { id: small.sessionId }, small.key);
      const q1 = s.t.queries.count;
      s.t.queries.count = 0;
      const r2 = await s.gql(PAGE, { id: large.sessionId }, large.key);
      const q2 = s.t.queries.count;
      expect(r1.body.errors).toBeUndefined();
      expect(r2.body.errors).toBeUndefined();
      const edges = r2.body.data.session.messages.edges;
      expect(edges).toHaveLength(14);
      const answer = edges[1].node;
      expect(answer).toMatchObject({
        role: "ASSISTANT",
        status: "COMPLETE",
        task: "rec",
        text: 'The "thing" is thing',
      });
      expect(answer.result).toMatchObject({
        __typename: "RecResult",
        expression: "thing 0",
        partial: false,
      });
      expect(answer.result.ref.id).toBe(answer.visualRefs[0].id);
      expect(answer.visualRefs[0].box).toEqual({ x: 1 });
      const refNode = await s.gql(
        `query($id: ID!) { node(id: $id) { __typename ... on VisualRef { label patches } } }`,
        { id: answer.visualRefs[0].id },
        large.key,
      );
      expect(refNode.body.data.node).toEqual({
        __typename: "VisualRef",
        label: "thing",
        patches: [0, 1],
      });
      // auth, session, page, parts, images, sessions-of-messages: the same for 4 and 14 messages.
      expect(q1).toBe(q2);
      expect(q2).toBeLessThanOrEqual(6);
    });
  });

  describe("sending messages", () => {
    it("is idempotent: same key and input, same ids; other input, IDEMPOTENCY_CONFLICT", async () => {
      const owner = await s.newKey();
      const sess = await session(owner.key);
      const image = await upload(owner.key, png(120, 80, 3));
      // Unfinished answers wait in the engine's queue, so nothing is written while the counts
      // are compared (and, on PGlite, no stream slows the requests down: see the README).
      const release = occupy(engine);
      const input = {
        sessionId: sess.id,
        parts: [{ imageId: image.id }, { text: "what is this?" }],
        task: { rec: { expression: "the square" } },
        options: OPEN,
        idempotencyKey: "k-1",
      };
      const first = await s.gql(SEND, { input }, owner.key);
      expect(first.body.errors).toBeUndefined();
      const sent = first.body.data.sendMessage;
      expect(sent.userMessage).toMatchObject({
        role: "USER",
        status: "COMPLETE",
        task: "rec",
        text: "what is this?",
      });
      expect(sent.assistantMessage.role).toBe("ASSISTANT");
      const before = await counts();
      const retry = await s.gql(SEND, { input }, owner.key);
      expect(retry.body.data.sendMessage.userMessage.id).toBe(sent.userMessage.id);
      expect(retry.body.data.sendMessage.assistantMessage.id).toBe(sent.assistantMessage.id);
      const conflict = await s.gql(
        SEND,
        { input: { ...input, parts: [{ imageId: image.id }, { text: "other" }] } },
        owner.key,
      );
      expect(conflict.body.errors?.[0]?.extensions?.code).toBe("IDEMPOTENCY_CONFLICT");
      expect(await counts()).toEqual(before);
      // Visual references: patches, a box (turned into patches), and a refId to an earlier one.
      const withRefs = await s.gql(
        SEND,
        {
          input: {
            sessionId: sess.id,
            parts: [
              { text: "compare " },
              { visualRef: { imageId: image.id, patches: [0, 1] } },
              // Half a cell in the top-left corner: that cell only.
              {
                visualRef: {
                  imageId: image.id,
                  box: { x: 0, y: 0, width: 60 / image.gridWidth, height: 40 / image.gridHeight },
                },
              },
            ],
            options: { maxNewTokens: 2 },
          },
        },
        owner.key,
      );
      expect(withRefs.body.errors).toBeUndefined();
      const refs = withRefs.body.data.sendMessage.userMessage.parts.filter(
        (p: { __typename: string }) => p.__typename === "VisualRefPart",
      );
      expect(refs.map((p: { ref: { patches: number[] } }) => p.ref.patches)).toEqual([[0, 1], [0]]);
      const cited = await s.gql(
        SEND,
        {
          input: {
            sessionId: sess.id,
            parts: [{ text: "again " }, { visualRef: { refId: refs[0].ref.id } }],
            options: { maxNewTokens: 2 },
          },
        },
        owner.key,
      );
      expect(cited.body.errors).toBeUndefined();
      expect(cited.body.data.sendMessage.userMessage.parts[1].ref.patches).toEqual([0, 1]);
      // The answers wait in the engine's queue (occupied). Cancel the first; once the engine is
      // free the two short ones run to the end.
      for (const id of [sent.assistantMessage.id]) {
        const c = await s.gql(CANCEL, { id }, owner.key);
        expect(c.body.data.cancelGeneration.status).toBe("CANCELLED");
      }
      await release();
      const client = s.ws(owner.key);
      for (const r of [withRefs, cited]) {
        const { results, error } = await collect(client, EVENTS, {
          id: r.body.data.sendMessage.assistantMessage.id,
        });
        expect(error).toBeUndefined();
        expect(results.at(-1)?.data?.messageEvents.__typename).toBe("MessageCompleted");
      }
    });
  });

  describe("owner isolation", () => {
    it("owner B cannot read, change, subscribe to or cancel owner A's session and message", async () => {
      const sess = await session(a.key, "a's");
      const image = await upload(a.key, png(64, 64, 9));
      const release = occupy(engine);
      const sent = await s.gql(
        SEND,
        { input: { sessionId: sess.id, parts: [{ text: "hi" }], options: OPEN } },
        a.key,
      );
      const messageId = sent.body.data.sendMessage.assistantMessage.id as string;
      const userId = sent.body.data.sendMessage.userMessage.id as string;
      const before = await counts();

      const reads = await s.gql(
        `query($s: ID!, $m: ID!, $u: ID!, $i: ID!) { session(id: $s) { id } message(id: $m) { id } u: message(id: $u) { id } image(id: $i) { id } node(id: $s) { id } }`,
        { s: sess.id, m: messageId, u: userId, i: image.id },
        b.key,
      );
      expect(reads.body.data).toEqual({
        session: null,
        message: null,
        u: null,
        image: null,
        node: null,
      });
      const list = await s.gql(`{ sessions { edges { node { id } } } }`, {}, b.key);
      expect(list.body.data.sessions.edges).toEqual([]);
      const rename = await s.gql(
        `mutation($id: ID!) { renameSession(id: $id, title: "x") { id } }`,
        { id: sess.id },
        b.key,
      );
      expect(rename.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const del = await s.gql(
        `mutation($id: ID!) { deleteSession(id: $id) }`,
        { id: sess.id },
        b.key,
      );
      expect(del.body.data.deleteSession).toBe(false);
      const cancel = await s.gql(
        `mutation($id: ID!) { cancelGeneration(messageId: $id) { id } }`,
        { id: messageId },
        b.key,
      );
      expect(cancel.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const into = await s.gql(
        SEND,
        { input: { sessionId: sess.id, parts: [{ text: "x" }] } },
        b.key,
      );
      expect(into.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const bSession = await session(b.key);
      const theirImage = await s.gql(
        SEND,
        { input: { sessionId: bSession.id, parts: [{ imageId: image.id }] } },
        b.key,
      );
      expect(theirImage.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

      const client = s.ws(b.key);
      const sub = await collect(
        client,
        `subscription($id: ID!) { messageEvents(messageId: $id) { __typename } }`,
        { id: messageId },
      );
      expect(sub.results[0]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const subSession = await collect(
        client,
        `subscription($id: ID!) { sessionEvents(sessionId: $id) { __typename } }`,
        { id: sess.id },
      );
      expect(subSession.results[0]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect((await counts()).messages).toBe(before.messages);

      // A itself can still read it, and cancel it.
      const mine = await s.gql(CANCEL, { id: messageId }, a.key);
      expect(mine.body.data.cancelGeneration).toEqual({ id: messageId, status: "CANCELLED" });
      await release();
    });
  });

  describe("limits and bad input: a typed error and nothing written", () => {
    let key: string;
    let sessionId: string;
    let imageId: string;
    beforeAll(async () => {
      const owner = await s.newKey("limits");
      key = owner.key;
      sessionId = (await session(key)).id;
      imageId = (await upload(key, png(100, 100, 5))).id;
    });
    const send = (input: Record<string, unknown>) =>
      s.gql(SEND, { input: { sessionId, ...input } }, key);
    const deep = `{ sessions { edges { node { messages { edges { node { session { messages { edges { node { session { id } } } } } } } } } } } }`;
    const cases: [
      string,
      () => Promise<{ status: number; body: { errors?: { extensions?: { code?: string } }[] } }>,
      string,
      number?,
    ][] = [
      ["missing key", () => s.gql("{ viewer { id } }", {}, null), "UNAUTHENTICATED", 401],
      [
        "oversized body",
        async () => {
          const res = await fetch(`${s.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
            body: JSON.stringify({
              query: "{ viewer { id } }",
              variables: { pad: "x".repeat(300 * 1024) },
            }),
          });
          return { status: res.status, body: (await res.json()) as never };
        },
        "BODY_TOO_LARGE",
        413,
      ],
      [
        "oversized chunked body",
        async () => {
          const big = new TextEncoder().encode(
            JSON.stringify({ query: "{ viewer { id } }", pad: "x".repeat(300 * 1024) }),
          );
          const body = new ReadableStream({
            start(controller) {
              for (let i = 0; i < big.length; i += 16 * 1024)
                controller.enqueue(big.subarray(i, i + 16 * 1024));
              controller.close();
            },
          });
          const res = await fetch(`${s.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
            body,
            duplex: "half",
          } as RequestInit);
          return { status: res.status, body: (await res.json()) as never };
        },
        "BODY_TOO_LARGE",
        413,
      ],
      ["query too deep", () => s.gql(deep, {}, key), "QUERY_TOO_DEEP", 400],
      [
        "too many aliases",
        () =>
          s.gql(
            `{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } e: viewer { id } f: viewer { id } }`,
            {},
            key,
          ),
        "QUERY_TOO_MANY_ALIASES",
        400,
      ],
      [
        "too many tokens",
        () => s.gql(`{ viewer { ${"id ".repeat(1100)} } }`, {}, key),
        "QUERY_TOO_MANY_TOKENS",
        400,
      ],
      [
        "huge base64 image",
        () => s.gql(UPLOAD, { b: b64(new Uint8Array(120 * 1024).fill(7)) }, key),
        "IMAGE_TOO_LARGE",
      ],
      [
        "image with too many pixels",
        () => s.gql(UPLOAD, { b: b64(png(2000, 1000, 0, { idat: false })) }, key),
        "IMAGE_TOO_MANY_PIXELS",
      ],
      [
        "corrupt image",
        () => s.gql(UPLOAD, { b: b64(png(64, 64, 1).slice(0, 60)) }, key),
        "IMAGE_DECODE_FAILED",
      ],
      ["SVG", () => s.gql(UPLOAD, { b: b64(SVG) }, key), "IMAGE_FORMAT_UNSUPPORTED"],
      [
        "SVG declared",
        () => s.gql(UPLOAD, { b: b64(png(64, 64, 1)), m: "image/svg+xml" }, key),
        "IMAGE_FORMAT_UNSUPPORTED",
      ],
      [
        "malformed base64",
        () => s.gql(UPLOAD, { b: "!!!not base64!!!" }, key),
        "IMAGE_DECODE_FAILED",
      ],
      [
        "unknown task",
        () => send({ parts: [{ imageId }], task: { _placeholder: true } }),
        "TASK_UNKNOWN",
      ],
      [
        "task field not in the schema",
        () => send({ parts: [{ imageId }], task: { nope: {} } }),
        "BAD_USER_INPUT",
        400,
      ],
      [
        "two tasks at once",
        () =>
          send({
            parts: [{ imageId }],
            task: { rec: { expression: "a" }, res: { expression: "b" } },
          }),
        "TASK_INPUT_INVALID",
      ],
      [
        "invalid task input",
        () => send({ parts: [{ imageId }], task: { rec: { expression: "  " } } }),
        "TASK_INPUT_INVALID",
      ],
      [
        "unknown session",
        () => send({ sessionId: "0190a8a0-0000-7000-8000-000000000000", parts: [{ text: "x" }] }),
        "NOT_FOUND",
      ],
      [
        "malformed session id",
        () => send({ sessionId: "nope", parts: [{ text: "x" }] }),
        "NOT_FOUND",
      ],
      [
        "unknown image",
        () => send({ parts: [{ imageId: "0190a8a0-0000-7000-8000-000000000000" }] }),
        "NOT_FOUND",
      ],
      ["text too long", () => send({ parts: [{ text: "x".repeat(201) }] }), "TEXT_TOO_LONG"],
      [
        "too many parts",
        () => send({ parts: Array.from({ length: 5 }, () => ({ text: "x" })) }),
        "TOO_MANY_PARTS",
      ],
      ["no parts", () => send({ parts: [] }), "PART_INVALID"],
      ["part with two fields", () => send({ parts: [{ text: "x", imageId }] }), "PART_INVALID"],
      [
        "patch outside the grid",
        () => send({ parts: [{ imageId }, { visualRef: { imageId, patches: [100000] } }] }),
        "VISUAL_REF_INVALID",
      ],
      [
        "box outside the image",
        () =>
          send({
            parts: [
              { imageId },
              { visualRef: { imageId, box: { x: 90, y: 0, width: 50, height: 5 } } },
            ],
          }),
        "VISUAL_REF_INVALID",
      ],
      [
        "unknown refId",
        () =>
          send({
            parts: [
              { imageId },
              { visualRef: { refId: "vref_0190a8a0-0000-7000-8000-000000000000_0" } },
            ],
          }),
        "NOT_FOUND",
      ],
      [
        "bad options",
        () => send({ parts: [{ text: "x" }], options: { temperature: 5 } }),
        "OPTIONS_INVALID",
      ],
      [
        "a sampling setting on a greedy request",
        () => send({ parts: [{ text: "x" }], options: { doSample: false, topK: 5 } }),
        "OPTIONS_INVALID",
      ],
    ];

    it.each(cases)("%s", async (_name, run, code, status) => {
      const before = await counts();
      const r = await run();
      expect(r.body.errors?.[0]?.extensions?.code).toBe(code);
      if (status) expect(r.status).toBe(status);
      expect(await counts()).toEqual(before);
    });
  });

  describe("operations endpoints", () => {
    it("/healthz, /readyz, /metrics; / is the playground when built, else a clear 404", async () => {
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      for (const name of [
        "padt_generation_queue_depth",
        "padt_generations_running",
        "padt_decode_tokens_per_second",
        "padt_graphql_request_duration_seconds",
      ])
        expect(metrics).toContain(name);
      const root = await fetch(`${s.url}/`);
      const built = existsSync(join(defaultPlaygroundDir, "index.html"));
      expect(root.status).toBe(built ? 200 : 404);
      if (built) expect(root.headers.get("content-type")).toContain("text/html");
    });

    it("limits subscriptions per socket", async () => {
      const sess = await session(a.key);
      const client = s.ws(a.key);
      const subs = Array.from({ length: 3 }, () =>
        collect(
          client,
          `subscription($id: ID!) { sessionEvents(sessionId: $id) { __typename } }`,
          { id: sess.id },
          { take: 1 },
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      const extra = await collect(
        client,
        `subscription($id: ID!) { sessionEvents(sessionId: $id) { __typename } }`,
        { id: sess.id },
      );
      expect(JSON.stringify(extra.error)).toContain("TOO_MANY_SUBSCRIPTIONS");
      await s.gql(
        `mutation($id: ID!) { renameSession(id: $id, title: "r") { id } }`,
        { id: sess.id },
        a.key,
      );
      const got = await Promise.all(subs);
      expect(got.map((g) => g.results[0]?.data?.sessionEvents.__typename)).toEqual([
        "SessionRenamed",
        "SessionRenamed",
        "SessionRenamed",
      ]);
    });

    it("applies the same query limits on the WebSocket", async () => {
      const deepSub = await collect(
        s.ws(a.key),
        `{ sessions { edges { node { messages { edges { node { session { messages { edges { node { session { id } } } } } } } } } } } }`,
      );
      expect(JSON.stringify(deepSub.error ?? deepSub.results)).toContain("QUERY_TOO_DEEP");
    });
  });
});
