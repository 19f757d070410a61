/**
 * Edges of the API found by testing from outside (issue 14, items 7, 10, 11, 12, 14, 15):
 * `padt serve` as users run it (a child process, NODE_ENV unset), real HTTP, raw socket and
 * graphql-ws clients, on PostgreSQL and PGlite. Every refusal is a typed error, and
 * "nothing written" is read back through the API (PGlite allows one process at a time).
 */
import { connect as connectTcp } from "node:net";
import { SHIPPED_TASKS } from "@padt/gateway";
import { defineTask, TaskRegistry } from "@padt/task-api";
import { availableDatabaseKinds } from "@padt/testkit";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import { RANDOM_BUNDLE, type ServedCli, serveCli } from "./helpers/cli-process.js";
import { b64, png } from "./helpers/png.js";

type Body = {
  // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field.
  data?: any;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
};

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) {
  userMessage { id parts { __typename ... on VisualRefPart { ref { patches } } } }
  assistantMessage { id }
} }`;
const EVENTS = `subscription($id: ID!) { messageEvents(messageId: $id) {
  __typename
  ... on MessageCancelled { message { id status } }
  ... on MessageFailed { error { code } }
} }`;
const UPLOAD = `mutation($b: String!) { uploadImage(input: { base64: $b }) { id } }`;
const NUL = "\u0000";

describe("the task-plugin contract's requiresImage (item 12)", () => {
  const plugin = (requiresImage: unknown) =>
    defineTask({
      name: "probe",
      description: "a text-only probe",
      input: z.object({}),
      requiresImage: requiresImage as boolean,
      buildPrompt: () => "x",
      parse: () => ({ result: {}, partial: false, issues: [] }),
      graphql: {
        inputField: "probe",
        inputType: "ProbeInput",
        resultType: "ProbeResult",
        typeDefs: "input ProbeInput { x: Int } type ProbeResult { x: Int }",
      },
    });

  it("is declared by every shipped plugin and the count example", async () => {
    for (const name of [...SHIPPED_TASKS, "@padt/tasks-count"]) {
      const loaded = (await import(name)) as { default: { requiresImage?: boolean } };
      expect(loaded.default.requiresImage, name).toBe(true);
    }
  });

  it("is optional, and refused at registration when it is not a boolean", () => {
    expect(() => new TaskRegistry([plugin(undefined)])).not.toThrow();
    expect(() => new TaskRegistry([plugin("yes")])).toThrow(/requiresImage must be a boolean/);
  });
});

describe.each(availableDatabaseKinds())("API edges of padt serve on %s", (kind) => {
  let served: ServedCli;
  const clients: Client[] = [];
  beforeAll(async () => {
    served = await serveCli(kind, {
      args: ["--model", RANDOM_BUNDLE, "--task", "@padt/tasks-count"],
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await served?.cleanup();
  });

  async function gql(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Body }> {
    const res = await fetch(`${served.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
        authorization: `Bearer ${served.key}`,
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  }
  const code = (r: { body: Body }) => r.body.errors?.[0]?.extensions?.code;
  const newSession = async () =>
    (await gql(`mutation { createSession(input: { title: "edges" }) { id } }`)).body.data
      .createSession.id as string;
  const upload = async (width = 100, height = 100, seed = 1) => {
    const r = await gql(UPLOAD, { b: b64(png(width, height, seed)) });
    expect(r.body.errors).toBeUndefined();
    return r.body.data.uploadImage.id as string;
  };
  const send = (input: Record<string, unknown>) => gql(SEND, { i: input });

  function ws(): Client {
    const client = createClient({
      url: `${served.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${served.key}` },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    return client;
  }

  /** Every result of one operation over graphql-ws; `onFirst` runs at the first result. */
  function collect(
    client: Client,
    query: string,
    variables: Record<string, unknown>,
    onFirst?: () => void,
  ): Promise<{ results: Body[]; error?: unknown }> {
    return new Promise((resolve) => {
      const results: Body[] = [];
      client.subscribe(
        { query, variables },
        {
          next: (value) => {
            results.push(value as Body);
            if (results.length === 1) onFirst?.();
          },
          error: (error) => resolve({ results, error }),
          complete: () => resolve({ results }),
        },
      );
    });
  }

  /** Waits for an answer to end (so that answers never pile up past the per-owner limit). */
  async function finished(messageId: string): Promise<string> {
    const { results } = await collect(ws(), EVENTS, { id: messageId });
    return results.at(-1)?.data?.messageEvents.__typename;
  }

  /** Sessions, messages and parts of this key's owner, as the API lists them. */
  async function stored(): Promise<{ sessions: number; messages: number; parts: number }> {
    const list = await gql(`{ sessions(first: 100) { edges { node { id } } } }`);
    expect(list.body.errors).toBeUndefined();
    const ids = list.body.data.sessions.edges.map((e: { node: { id: string } }) => e.node.id);
    let messages = 0;
    let parts = 0;
    for (const id of ids) {
      const r = await gql(
        `query($id: ID!) { session(id: $id) { messages(last: 100) { edges { node { parts { __typename } } } } } }`,
        { id },
      );
      expect(r.body.errors).toBeUndefined();
      const edges = r.body.data.session.messages.edges as { node: { parts: unknown[] } }[];
      messages += edges.length;
      parts += edges.reduce((n, e) => n + e.node.parts.length, 0);
    }
    return { sessions: ids.length, messages, parts };
  }

  describe("a NUL character in a stored string (item 7)", () => {
    let sessionId: string;
    let imageId: string;
    beforeAll(async () => {
      sessionId = await newSession();
      imageId = await upload(100, 100, 7);
    });
    const inSession = (input: Record<string, unknown>) => send({ sessionId, ...input });
    const cases: [string, () => Promise<{ body: Body }>, string][] = [
      [
        "a session title",
        () =>
          gql(`mutation($t: String) { createSession(input: { title: $t }) { id } }`, {
            t: `a${NUL}b`,
          }),
        "title",
      ],
      [
        "a new title",
        () =>
          gql(`mutation($id: ID!, $t: String!) { renameSession(id: $id, title: $t) { id } }`, {
            id: sessionId,
            t: `${NUL}`,
          }),
        "title",
      ],
      ["message text", () => inSession({ parts: [{ text: `hi${NUL}` }] }), "parts[0].text"],
      [
        "a REC expression",
        () =>
          inSession({
            parts: [{ imageId }],
            task: { rec: { expression: `the${NUL}square` } },
          }),
        "task.rec.expression",
      ],
      [
        "an OVD category",
        () =>
          inSession({
            parts: [{ imageId }],
            task: { ovd: { categories: ["circle", `sq${NUL}uare`] } },
          }),
        "task.ovd.categories[1]",
      ],
      [
        "a plugin added by configuration (count)",
        () => inSession({ parts: [{ imageId }], task: { count: { object: `${NUL}` } } }),
        "task.count.object",
      ],
      [
        "an idempotency key",
        () => inSession({ parts: [{ text: "hi" }], idempotencyKey: `k${NUL}` }),
        "idempotencyKey",
      ],
    ];
    it.each(cases)("%s: TEXT_INVALID naming the field, nothing written", async (_n, run, field) => {
      const before = await stored();
      const r = await run();
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: "TEXT_INVALID", field });
      expect(await stored()).toEqual(before);
    });

    it("is refused the same way over the WebSocket", async () => {
      const before = await stored();
      const { results } = await collect(ws(), SEND, {
        i: { sessionId, parts: [{ text: `over ws${NUL}` }] },
      });
      expect(results[0]?.errors?.[0]?.extensions?.code).toBe("TEXT_INVALID");
      expect(await stored()).toEqual(before);
    });
  });

  it("a bad percent-escape in an image path is a 400, not a 500 (item 10)", async () => {
    const res = await fetch(`${served.url}/images/%E0%A4%A`, {
      headers: { authorization: `Bearer ${served.key}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
  });

  it("a subscription over HTTP POST or GET is a 400 saying to use the WebSocket (item 11)", async () => {
    const sessionId = await newSession();
    const query = `subscription($s: ID!) { sessionEvents(sessionId: $s) { __typename } }`;
    for (const accept of ["application/graphql-response+json", "application/json"]) {
      const post = await gql(query, { s: sessionId }, { accept });
      expect(post.status).toBe(400);
      expect(code(post)).toBe("SUBSCRIPTION_OVER_HTTP");
      expect(post.body.errors?.[0]?.message).toMatch(/WebSocket/);
    }
    const params = new URLSearchParams({ query, variables: JSON.stringify({ s: sessionId }) });
    const get = await fetch(`${served.url}/graphql?${params}`, {
      headers: { authorization: `Bearer ${served.key}`, "apollo-require-preflight": "1" },
    });
    expect(get.status).toBe(400);
    const body = (await get.json()) as Body;
    expect(body.errors?.[0]?.extensions?.code).toBe("SUBSCRIPTION_OVER_HTTP");
    expect(body.errors?.[0]?.message).toMatch(/WebSocket/);
  });

  describe("a task that needs an image (item 12)", () => {
    it.each([
      ["rec", { rec: { expression: "the square" } }],
      ["res", { res: { expression: "the square" } }],
      ["ovd", { ovd: { categories: ["square"] } }],
      ["ric", { ric: {} }],
      ["count", { count: { object: "square" } }],
    ])(
      "%s without any image in the session: IMAGE_REQUIRED, nothing written",
      async (name, task) => {
        const sessionId = await newSession();
        const before = await stored();
        const r = await send({ sessionId, parts: [{ text: "find it" }], task });
        expect(r.body.errors?.[0]?.extensions).toMatchObject({
          code: "IMAGE_REQUIRED",
          task: name,
        });
        expect(await stored()).toEqual(before);
      },
    );

    it("is accepted when an earlier message of the session has the image", async () => {
      const sessionId = await newSession();
      const imageId = await upload(120, 90, 12);
      const first = await send({
        sessionId,
        parts: [{ imageId }, { text: "look" }],
        options: { maxNewTokens: 1 },
      });
      expect(first.body.errors).toBeUndefined();
      expect(await finished(first.body.data.sendMessage.assistantMessage.id)).toBe(
        "MessageCompleted",
      );
      const task = await send({
        sessionId,
        parts: [{ text: "and now" }],
        task: { rec: { expression: "the square" } },
        options: { maxNewTokens: 1 },
      });
      expect(task.body.errors).toBeUndefined();
      expect(await finished(task.body.data.sendMessage.assistantMessage.id)).toBe(
        "MessageCompleted",
      );
    });
  });

  it("deleting a session mid-stream ends its subscribers with MessageCancelled (item 14)", async () => {
    const sessionId = await newSession();
    const sent = await send({
      sessionId,
      parts: [{ text: "hi" }],
      options: { maxNewTokens: 4096 },
    });
    expect(sent.body.errors).toBeUndefined();
    const id = sent.body.data.sendMessage.assistantMessage.id as string;
    let deleted: Promise<{ body: Body }> | undefined;
    const remove = () => {
      deleted ??= gql(`mutation($id: ID!) { deleteSession(id: $id) }`, { id: sessionId });
    };
    // Two subscribers: one deletes at its first event, the other only watches.
    const [a, b] = await Promise.all([
      collect(ws(), EVENTS, { id }, remove),
      collect(ws(), EVENTS, { id }),
    ]);
    expect((await deleted!).body.data.deleteSession).toBe(true);
    for (const { results, error } of [a, b]) {
      expect(error).toBeUndefined();
      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect(results.at(-1)?.data?.messageEvents).toEqual({
        __typename: "MessageCancelled",
        message: { id, status: "CANCELLED" },
      });
    }
  });

  describe("docs and behaviour agree (item 15)", () => {
    it("refuses an image with a side under 28 px with IMAGE_SHAPE_UNSUPPORTED", async () => {
      for (const [w, h] of [
        [27, 100],
        [100, 20],
        [1, 1],
      ] as const) {
        const r = await gql(UPLOAD, { b: b64(png(w, h, 3)) });
        expect(code(r), `${w}x${h}`).toBe("IMAGE_SHAPE_UNSUPPORTED");
      }
      const form = new FormData();
      form.set("file", new Blob([Buffer.from(png(20, 64, 4))], { type: "image/png" }), "x.png");
      const multipart = await fetch(`${served.url}/images`, {
        method: "POST",
        headers: { authorization: `Bearer ${served.key}`, "apollo-require-preflight": "1" },
        body: form,
      });
      expect(multipart.status).toBe(400);
      expect(((await multipart.json()) as Body).errors?.[0]?.extensions?.code).toBe(
        "IMAGE_SHAPE_UNSUPPORTED",
      );
      // The smallest accepted image: one merged patch.
      expect(await upload(28, 28, 5)).toBeTruthy();
    });

    it("answers persisted queries PERSISTED_QUERY_NOT_SUPPORTED, as ERRORS.md says", async () => {
      const query = "{ viewer { id } }";
      const hash = (await import("node:crypto")).createHash("sha256").update(query).digest("hex");
      const persistedQuery = { version: 1, sha256Hash: hash };
      for (const body of [
        { extensions: { persistedQuery } },
        { query, extensions: { persistedQuery } },
      ]) {
        const res = await fetch(`${served.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${served.key}` },
          body: JSON.stringify(body),
        });
        expect(((await res.json()) as Body).errors?.[0]?.extensions?.code).toBe(
          "PERSISTED_QUERY_NOT_SUPPORTED",
        );
      }
    });

    it("refuses an empty text message with PROMPT_EMPTY before writing anything", async () => {
      const sessionId = await newSession();
      const before = await stored();
      for (const parts of [[{ text: "" }], [{ text: "  \n" }], [{ text: "" }, { text: " " }]]) {
        const r = await send({ sessionId, parts });
        expect(code(r), JSON.stringify(parts)).toBe("PROMPT_EMPTY");
      }
      expect(await stored()).toEqual(before);
    });

    it("answers a 64 KB Authorization header with a GraphQL-shaped 431", async () => {
      const res = await fetch(`${served.url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${"a".repeat(64 * 1024)}`,
        },
        body: JSON.stringify({ query: "{ viewer { id } }" }),
      });
      expect(res.status).toBe(431);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(((await res.json()) as Body).errors?.[0]?.extensions?.code).toBe("HEADERS_TOO_LARGE");
      // And a request Node cannot parse at all gets the same kind of body.
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connectTcp(Number(new URL(served.url).port), "127.0.0.1");
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          text += chunk;
        });
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
        socket.write("NOT HTTP AT ALL\r\n\r\n");
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)).errors[0].extensions.code).toBe(
        "BAD_REQUEST",
      );
      expect(code(await gql("{ viewer { id } }"))).toBeUndefined();
    });

    it("accepts the repeated patches answers contain, deduplicated", async () => {
      const sessionId = await newSession();
      const imageId = await upload(100, 100, 15);
      const r = await send({
        sessionId,
        parts: [
          { imageId },
          { text: "what is " },
          { visualRef: { imageId, patches: [8, 8, 8, 8, 8] } },
          { visualRef: { imageId, patches: [3, 9, 3, 9] } },
        ],
        options: { maxNewTokens: 1 },
      });
      expect(r.body.errors).toBeUndefined();
      const refs = r.body.data.sendMessage.userMessage.parts.filter(
        (p: { __typename: string }) => p.__typename === "VisualRefPart",
      );
      expect(refs.map((p: { ref: { patches: number[] } }) => p.ref.patches)).toEqual([[8], [3, 9]]);
      expect(await finished(r.body.data.sendMessage.assistantMessage.id)).toBe("MessageCompleted");
    });
  });
});
