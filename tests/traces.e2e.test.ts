/**
 * Issue 20: OpenTelemetry traces. `padt serve` runs as users run it (a child process, on the
 * shipped Shapes bundle) with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a tiny OTLP receiver in
 * this test. One REC answer must come back as one trace: the sendMessage operation's span, the
 * answer's span under it, and under that the queue wait, the database writes and the engine's
 * stages (prefill, decode, the PaDT decoder calls, measured on the worker thread); the same trace
 * id is in the message's metadata and in the server's log line for the answer. A caller's
 * `traceparent` header makes its trace the one the answer joins.
 */

import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMessage } from "../packages/gateway/src/db/repos/messages.js";
import { type Body, subscriptionOver } from "./helpers/e2e-gateway.js";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from "./helpers/otlp-receiver.js";
import { type ServerProcess, startServerProcess } from "./helpers/server-process.js";
import { shapesPng } from "./helpers/shapes-png.js";

const SHAPES = new URL("../models/padt-tiny-shapes", import.meta.url).pathname;
const CALLER = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };

describe.each(availableDatabaseKinds())("traces of a REC answer on %s", (kind) => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServerProcess(kind, {
      model: SHAPES,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "padt-e2e" },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  const gql = async (
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${server.key}`,
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as Body;
  };

  /** One REC answer, followed to its end; the assistant message's id. */
  const answer = async (session: string, image: string, headers?: Record<string, string>) => {
    const sent = await gql(
      `mutation SendMessage($s: ID!, $i: ID!) { sendMessage(input: { sessionId: $s,
        parts: [{ imageId: $i }], task: { rec: { expression: "the red circle" } },
        options: { maxNewTokens: 24 } }) { assistantMessage { id } } }`,
      { s: session, i: image },
      headers,
    );
    expect(sent.errors, server.output()).toBeUndefined();
    const id = sent.data?.sendMessage.assistantMessage.id as string;
    const events = await subscriptionOver(server.url, server.key)(
      `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) { __typename } }`,
      { m: id },
    );
    expect(events.at(-1)?.data?.messageEvents).toEqual({ __typename: "MessageCompleted" });
    return id;
  };

  it("one trace from sendMessage to the last write, with its id in the metadata and the logs", async () => {
    const owner = (await gql(`{ viewer { id } }`)).data?.viewer.id as string;
    const upload = await gql(`mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`, {
      b: Buffer.from(shapesPng(224, 224)).toString("base64"),
    });
    const image = upload.data?.uploadImage.id as string;
    const session = (await gql(`mutation { createSession(input: {}) { id } }`)).data?.createSession
      .id as string;
    const plain = await answer(session, image);
    const joined = await answer(session, image, {
      traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01`,
    });

    // SIGTERM: the server drains and exports what it still buffers before it exits.
    server.proc.child.kill("SIGTERM");
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
    expect(receiver.refused).toEqual([]);
    const handle = await server.openDatabase();
    const stored = await Promise.all(
      [plain, joined].map(async (id) => (await getMessage(handle.db, owner, id))?.metadata),
    );
    await handle.close();

    const generation = (messageId: string) => {
      const roots = receiver.spans.filter(
        (s) => s.name === "padt.generation" && s.attributes["padt.message.id"] === messageId,
      );
      expect(roots, JSON.stringify(receiver.spans.map((s) => s.name))).toHaveLength(1);
      return roots[0] as ReceivedSpan;
    };
    const byId = new Map(receiver.spans.map((s) => [s.spanId, s]));
    const children = (parent: ReceivedSpan) =>
      receiver.spans.filter((s) => s.parentSpanId === parent.spanId);
    const names = (spans: ReceivedSpan[]) => [...new Set(spans.map((s) => s.name))].sort();

    // The plain request: the mutation's span is the trace's root, the answer's span its child.
    const root = generation(plain);
    const mutation = byId.get(root.parentSpanId ?? "") as ReceivedSpan;
    expect(mutation).toMatchObject({
      name: "mutation SendMessage",
      traceId: root.traceId,
      attributes: {
        "graphql.operation.type": "mutation",
        "graphql.operation.name": "SendMessage",
      },
      service: "padt-e2e",
    });
    expect(mutation.parentSpanId).toBeUndefined();
    expect(root.attributes).toMatchObject({
      "padt.task": "rec",
      "padt.message.status": "complete",
    });
    expect(names(children(root))).toEqual([
      "padt.conversation.load",
      "padt.db.append_event",
      "padt.db.finish_message",
      "padt.db.mark_streaming",
      "padt.engine.generate",
      "padt.queue.wait",
    ]);
    const engine = children(root).find((s) => s.name === "padt.engine.generate") as ReceivedSpan;
    expect(names(children(engine))).toEqual(["padt.engine.decode", "padt.engine.prefill"]);
    const decode = children(engine).find((s) => s.name === "padt.engine.decode") as ReceivedSpan;
    // The Shapes model finds the red circle: at least one object, decoded inside decode.
    const decoder = children(decode);
    expect(decoder.length).toBeGreaterThan(0);
    for (const call of decoder) {
      expect(call.name).toBe("padt.engine.decoder");
      expect(BigInt(call.startTimeUnixNano)).toBeGreaterThanOrEqual(
        BigInt(decode.startTimeUnixNano),
      );
      expect(BigInt(call.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(decode.endTimeUnixNano));
    }
    const prefill = children(engine).find((s) => s.name === "padt.engine.prefill") as ReceivedSpan;
    expect(BigInt(prefill.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(decode.startTimeUnixNano));
    // Every span of the answer is in the mutation's trace.
    const tree = receiver.spans.filter((s) => s.traceId === root.traceId);
    for (const span of tree)
      if (span !== mutation) expect(byId.has(span.parentSpanId ?? "")).toBe(true);
    expect(stored[0]).toMatchObject({ traceId: root.traceId });
    const logged = server
      .output()
      .split("\n")
      .filter((l) => l.includes('"generation finished"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ messageId: plain, trace_id: root.traceId, span_id: root.spanId }),
    );

    // With the caller's traceparent, the operation is a child of the caller's span.
    const second = generation(joined);
    expect(second.traceId).toBe(CALLER.traceId);
    expect(byId.get(second.parentSpanId ?? "")).toMatchObject({
      name: "mutation SendMessage",
      parentSpanId: CALLER.spanId,
    });
    expect(stored[1]).toMatchObject({ traceId: CALLER.traceId });
  });
});
