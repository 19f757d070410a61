/**
 * Issue 14.4: an answer the gateway accepts completes; a send it cannot take is refused at
 * once with a typed error and nothing written. `padt serve` runs as a child process on the
 * tiny bundle (one engine worker, whose own queue holds 16): before the fix, 40 concurrent
 * sends were all accepted and 23 of them then ended FAILED with QUEUE_FULL.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Body, graphqlOver, subscriptionOver } from "./helpers/e2e-gateway.js";
import { type ServerProcess, startServerProcess } from "./helpers/server-process.js";

const TINY = new URL("./fixtures/padt-tiny-random", import.meta.url).pathname;
const SEND = `mutation($s: ID!) { sendMessage(input: { sessionId: $s, parts: [{ text: "hi" }],
  options: { maxNewTokens: 2 } }) { assistantMessage { id } } }`;
const FINAL = `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
  __typename ... on MessageFailed { error { code } } } }`;

describe.each(availableDatabaseKinds())("admission on %s", (kind) => {
  let server: ServerProcess;
  let gql: ReturnType<typeof graphqlOver>;
  beforeAll(async () => {
    // One key for every sender: the per-owner limit is raised so the queue is what binds.
    server = await startServerProcess(kind, {
      model: TINY,
      env: { PADT_MAX_GENERATIONS_PER_OWNER: "1000", PADT_MAX_QUEUE: "64" },
    });
    gql = graphqlOver(server.url, server.key);
  });
  afterAll(() => server?.stop());

  const sessions = async (n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const r = await gql(`mutation { createSession(input: {}) { id } }`);
        return r.data?.createSession.id as string;
      }),
    );
  const finalEvent = async (messageId: string) =>
    (await subscriptionOver(server.url, server.key)(FINAL, { m: messageId })).at(-1)?.data
      ?.messageEvents;
  /** Each answer's last event, one subscription at a time (the key's sockets are limited). */
  const finalEvents = async (sent: Body[]) => {
    const ends = [];
    for (const r of sent) ends.push(await finalEvent(r.data?.sendMessage.assistantMessage.id));
    return ends;
  };

  it("40 concurrent sends, more than the engine's queue holds: every one completes", async () => {
    const ids = await sessions(40);
    const sent = await Promise.all(ids.map((s) => gql(SEND, { s })));
    expect(sent.filter((r) => r.errors)).toEqual([]);
    const ends = await finalEvents(sent);
    expect(ends.filter((e) => e?.__typename !== "MessageCompleted")).toEqual([]);
  });

  it("past the queue length: refused at once with QUEUE_FULL and a hint, nothing written", async () => {
    const ids = await sessions(90);
    const sent: Body[] = await Promise.all(ids.map((s) => gql(SEND, { s })));
    const refused = sent.filter((r) => r.errors);
    const accepted = sent.filter((r) => !r.errors);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(64);
    for (const r of refused) {
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: "QUEUE_FULL",
        retryAfterMs: expect.any(Number),
      });
    }
    const counts = await Promise.all(
      ids.map(async (s) => {
        const r = await gql(
          `query($s: ID!) { session(id: $s) { messages(last: 10) { edges { cursor } } } }`,
          { s },
        );
        return r.data?.session.messages.edges.length as number;
      }),
    );
    // Refused sends left their sessions empty; accepted ones hold the message and its answer.
    expect(counts.filter((n) => n === 0)).toHaveLength(refused.length);
    expect(counts.filter((n) => n === 2)).toHaveLength(accepted.length);
    const ends = await finalEvents(accepted);
    expect(ends.filter((e) => e?.__typename !== "MessageCompleted")).toEqual([]);
  });
});
