/**
 * Issue 14.6: a long session is trimmed to the model's context instead of failing. Real
 * HTTP and graphql-ws clients, the gateway on both databases, the real engine (tiny bundle)
 * with a context of 600 tokens, so that a dozen REC turns with an image each overflow it
 * (before the fix, from about the 9th turn every answer ended FAILED PROMPT_TOO_LONG).
 */
import { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eGateway, startE2eGateway } from "./helpers/e2e-gateway.js";
import { shapesPng } from "./helpers/shapes-png.js";

const TINY = new URL("./fixtures/padt-tiny-random", import.meta.url).pathname;

let engine: PadtEngine;
beforeAll(async () => {
  // No demo pre-resize: a 112 px image is 16 tokens.
  engine = await PadtEngine.load({
    bundle: TINY,
    threads: 1,
    longSide: null,
    maxContextTokens: 600,
  });
});
afterAll(() => engine?.close());

describe.each(availableDatabaseKinds())("history trimmed to the context on %s", (kind) => {
  let server: E2eGateway;
  beforeAll(async () => {
    server = await startE2eGateway(kind, engine);
  });
  afterAll(() => server?.close());

  it("keeps the most recent turns that fit, says so, and never fails a short message", async () => {
    const { gql, subscribe } = server;
    const session = (await gql(`mutation { createSession(input: {}) { id } }`)).data?.createSession
      .id;
    const trims: ({ droppedMessages: number; droppedImages: number } | null)[] = [];
    for (let turn = 0; turn < 14; turn++) {
      const upload = await gql(
        `mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`,
        {
          b: Buffer.from(shapesPng(112 + turn, 112)).toString("base64"),
        },
      );
      const sent = await gql(
        `mutation($s: ID!, $i: ID!) { sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }],
          task: { rec: { expression: "the red circle" } }, options: { maxNewTokens: 4 } }) {
          assistantMessage { id } } }`,
        { s: session, i: upload.data?.uploadImage.id },
      );
      expect(sent.errors).toBeUndefined();
      const id = sent.data?.sendMessage.assistantMessage.id;
      const events = await subscribe(
        `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
          __typename ... on MessageFailed { error { code } } } }`,
        { m: id },
      );
      expect(events.at(-1)?.data?.messageEvents, `turn ${turn + 1}`).toEqual({
        __typename: "MessageCompleted",
      });
      const stored = await gql(
        `query($m: ID!) { message(id: $m) { status historyTrim { droppedMessages droppedImages droppedRefs } } }`,
        { m: id },
      );
      expect(stored.data?.message.status).toBe("COMPLETE");
      trims.push(stored.data?.message.historyTrim);
    }
    expect(trims[0]).toBeNull();
    const last = trims.at(-1);
    // Whole exchanges (question and answer) are dropped, each with its image.
    expect(last?.droppedMessages).toBeGreaterThan(0);
    expect(last && last.droppedMessages % 2).toBe(0);
    expect(last).toMatchObject({ droppedImages: (last?.droppedMessages ?? 0) / 2, droppedRefs: 0 });
  });
});
