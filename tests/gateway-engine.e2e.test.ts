/**
 * End to end, nothing stubbed: real HTTP and graphql-ws clients, the gateway on a real
 * database (PostgreSQL server and PGlite), the real engine in a worker thread running the
 * tiny bundle the exporter wrote (random weights, but for this image and REC prompt it
 * points at patches, as its goldens record), the REC plugin reading the answer.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PadtEngine } from "@padt/engine";
import { type Gateway, startGateway } from "@padt/gateway";
import { availableDatabaseKinds } from "@padt/testkit";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Body, type E2eGateway, graphqlOver, startE2eGateway } from "./helpers/e2e-gateway.js";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const image = readFileSync(`${fixtures}padt-tiny-random.images/rec_200x150_0.png`).toString(
  "base64",
);
const golden = JSON.parse(readFileSync(`${fixtures}padt-tiny-random.golden.json`, "utf8")).cases[0];

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle: `${fixtures}padt-tiny-random`, threads: 1 });
});
afterAll(() => engine?.close());

describe.each(availableDatabaseKinds())("gateway + engine + REC plugin on %s", (kind) => {
  let server: E2eGateway;
  let gateway: Gateway;
  let key: string;
  let gql: E2eGateway["gql"];
  let subscribe: E2eGateway["subscribe"];
  beforeAll(async () => {
    server = await startE2eGateway(kind, engine);
    ({ gateway, key, gql, subscribe } = server);
  });
  afterAll(() => server?.close());

  it("answers other requests while an answer streams", () =>
    expectAnswersWhileStreaming(gateway.url, key, gql));

  it("streams a REC answer with a decoded visual reference and stores it", async () => {
    const upload = await gql(
      `mutation($b: String!) { uploadImage(input: {base64: $b}) { id width height gridWidth gridHeight } }`,
      { b: image },
    );
    expect(upload.errors).toBeUndefined();
    const img = upload.data?.uploadImage;
    expect(img).toMatchObject({ width: 200, height: 150 });
    const session = (await gql(`mutation { createSession(input: {title: "e2e"}) { id } }`)).data
      ?.createSession.id;
    const sent = await gql(
      `mutation($s: ID!, $i: ID!) {
        sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }], task: { rec: { expression: "red circle" } },
                             options: { maxNewTokens: ${golden.generated_ids.length} } }) {
          assistantMessage { id status }
        }
      }`,
      { s: session, i: img.id },
    );
    expect(sent.errors).toBeUndefined();
    const messageId = sent.data?.sendMessage.assistantMessage.id;

    const events = await subscribe(
      `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
        __typename
        ... on TextDelta { seq text }
        ... on VisualRefStarted { seq ref { index patches decoded } }
        ... on VisualRefDecoded { seq ref { index patches decoded box { x y width height } score mask { height width area } } }
        ... on MessageCompleted { seq message { status } }
        ... on MessageFailed { seq error { code message } }
      } }`,
      { m: messageId },
    );
    const typed = events.map((e) => e.data?.messageEvents);
    const seqs = typed.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const kinds = typed.map((e) => e.__typename);
    expect(kinds.at(-1)).toBe("MessageCompleted");
    const started = kinds.indexOf("VisualRefStarted");
    const decoded = kinds.indexOf("VisualRefDecoded");
    expect(started).toBeGreaterThanOrEqual(0);
    expect(decoded).toBeGreaterThan(started);
    const ref = typed[decoded].ref;
    const want = golden.objects[0];
    expect(ref.patches).toEqual(want.patches);
    for (const [k, v] of [ref.box.x, ref.box.y, ref.box.width, ref.box.height].entries()) {
      expect(Math.abs(v - want.box_xywh[k])).toBeLessThan(0.05);
    }
    expect(ref.mask).toMatchObject({ height: 150, width: 200 });

    const stored = await gql(
      `query($m: ID!) { message(id: $m) { status lastSeq parts { __typename ... on VisualRefPart { ref { decoded box { x } } } }
        result { __typename ... on RecResult { expression partial ref { index box { x y width height } } } } } }`,
      { m: messageId },
    );
    expect(stored.errors).toBeUndefined();
    const message = stored.data?.message;
    expect(message.status).toBe("COMPLETE");
    expect(message.lastSeq).toBe(seqs.at(-1));
    expect(
      message.parts.some((p: { __typename: string }) => p.__typename === "VisualRefPart"),
    ).toBe(true);
    expect(message.result).toMatchObject({ __typename: "RecResult", expression: "red circle" });
    expect(Math.abs(message.result.ref.box.x - want.box_xywh[0])).toBeLessThan(0.05);

    // A client that reconnects after the last event it saw gets exactly the rest.
    const cut = seqs[Math.floor(seqs.length / 2)];
    const resumed = await subscribe(
      `subscription($m: ID!, $a: Int) { messageEvents(messageId: $m, afterSeq: $a) { ... on TextDelta { seq } ... on VisualRefStarted { seq } ... on VisualRefDecoded { seq } ... on MessageCompleted { seq } } }`,
      {
        m: messageId,
        a: cut,
      },
    );
    expect(resumed.map((r) => r.data?.messageEvents.seq)).toEqual(seqs.filter((s) => s > cut));
  });
});

describe("gateway + engine on the embedded default (PGlite in a data directory)", () => {
  let gateway: Gateway;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "padt-e2e-embedded-"));
    gateway = await startGateway({
      engine,
      config: { dataDir },
      port: 0,
      host: "127.0.0.1",
      print: () => {},
    });
  });
  afterAll(async () => {
    await gateway?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers other requests while an answer streams", async () => {
    const key = gateway.localKey!;
    await expectAnswersWhileStreaming(gateway.url, key, graphqlOver(gateway.url, key));
  });
});

/**
 * Sends a long REC answer and, when its first event arrives, a `viewer` query: the query
 * must be answered before the answer completes. On file-backed PGlite the event writes
 * once starved the event loop, so the query waited for the whole answer and the first
 * event arrived with the last.
 */
async function expectAnswersWhileStreaming(
  url: string,
  key: string,
  gql: (query: string, variables?: Record<string, unknown>) => Promise<Body>,
): Promise<void> {
  const upload = await gql(`mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`, {
    b: image,
  });
  const session = (await gql(`mutation { createSession(input: {title: "busy"}) { id } }`)).data
    ?.createSession.id;
  const sent = await gql(
    `mutation($s: ID!, $i: ID!) {
      sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }], task: { rec: { expression: "red circle" } },
                           options: { maxNewTokens: 1024 } }) { assistantMessage { id } }
    }`,
    { s: session, i: upload.data?.uploadImage.id },
  );
  expect(sent.errors).toBeUndefined();
  const order: string[] = [];
  const client = createClient({
    url: `${url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  let viewer: Promise<Body> | undefined;
  await new Promise<void>((resolve, reject) => {
    client.subscribe(
      {
        query: `subscription($m: ID!) { messageEvents(messageId: $m) { __typename } }`,
        variables: { m: sent.data?.sendMessage.assistantMessage.id },
      },
      {
        next: (r) => {
          const type = (r as Body).data?.messageEvents.__typename;
          order.push(type);
          viewer ??= gql("{ viewer { id } }").then((body) => {
            order.push("viewer answered");
            return body;
          });
        },
        error: reject,
        complete: resolve,
      },
    );
  }).finally(() => client.dispose());
  expect((await viewer)?.data?.viewer.id).toBeTruthy();
  expect(order.at(-1)).toBe("MessageCompleted");
  expect(order.indexOf("viewer answered")).toBeGreaterThan(0);
  expect(order.indexOf("viewer answered")).toBeLessThan(order.indexOf("MessageCompleted"));
}
