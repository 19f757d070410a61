/**
 * The shipped Shapes model (models/padt-tiny-shapes) through the whole platform: real HTTP
 * and graphql-ws clients, the gateway on a real database, the task plugins, the engine in a
 * worker thread. For each golden Shapes case (a REC, an OVD and a RIC request on Shapes test
 * images) the client sends the task input a front end would send; the streamed and stored
 * visual references must be the objects the reference pipeline found
 * (tests/fixtures/padt-tiny-shapes.golden.json), and the task result must be read from them.
 */
import { readFileSync } from "node:fs";
import { PadtEngine } from "@padt/engine";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type E2eGateway, startE2eGateway } from "./helpers/e2e-gateway.js";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const bundle = new URL("../models/padt-tiny-shapes", import.meta.url).pathname;

interface GoldenCase {
  name: string;
  task: "REC" | "OVD" | "RIC";
  task_input: Record<string, unknown>;
  answer_text: string;
  objects: { label: string; patches: number[]; box_xywh: number[] }[];
}
const golden = JSON.parse(readFileSync(`${fixtures}padt-tiny-shapes.golden.json`, "utf8")) as {
  max_new_tokens: number;
  cases: GoldenCase[];
};
const RESULT_TYPE = { REC: "RecResult", OVD: "OvdResult", RIC: "RicResult" } as const;
const BOX = "box { x y width height }";

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle, threads: 1 });
});
afterAll(() => engine?.close());

it("serves the shipped Shapes model", () => {
  expect(engine.info.name).toBe("padt-tiny-shapes");
});

describe.each(availableDatabaseKinds())("the shipped Shapes model on %s", (kind) => {
  let server: E2eGateway;
  beforeAll(async () => {
    server = await startE2eGateway(kind, engine);
  });
  afterAll(() => server?.close());

  it("says what the model can do: the four tasks, no free chat, one question per image", async () => {
    const got = await server.gql(
      "{ model { supportedTasks freeChat multiTurn } tasks { name supported } }",
    );
    expect(got.errors).toBeUndefined();
    expect(got.data?.model).toEqual({
      supportedTasks: ["rec", "res", "ovd", "ric"],
      freeChat: false,
      multiTurn: false,
    });
    for (const name of ["rec", "res", "ovd", "ric"])
      expect(got.data?.tasks).toContainEqual({ name, supported: true });
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))("answers %s", async (_, c) => {
    const { gql, subscribe } = server;
    const image = readFileSync(`${fixtures}padt-tiny-shapes.images/${c.name}_0.png`);
    const upload = await gql(`mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`, {
      b: image.toString("base64"),
    });
    const session = (await gql(`mutation { createSession(input: {title: "shapes"}) { id } }`)).data
      ?.createSession.id;
    const sent = await gql(
      `mutation($s: ID!, $i: ID!, $t: TaskInput!, $n: Int!) {
        sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }], task: $t, options: { maxNewTokens: $n } }) {
          assistantMessage { id }
        }
      }`,
      { s: session, i: upload.data?.uploadImage.id, t: c.task_input, n: golden.max_new_tokens },
    );
    expect(sent.errors).toBeUndefined();
    const messageId = sent.data?.sendMessage.assistantMessage.id;
    const events = await subscribe(
      `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
        __typename ... on VisualRefStarted { ref { index label } }
        ... on VisualRefDecoded { ref { patches ${BOX} } } } }`,
      { m: messageId },
    );
    const kinds = events.map((e) => e.data?.messageEvents.__typename);
    expect(kinds.at(-1)).toBe("MessageCompleted");

    const stored = await gql(
      `query($m: ID!) { message(id: $m) { status text
        parts { __typename ... on VisualRefPart { ref { patches ${BOX} } } }
        result { __typename
          ... on RecResult { ref { ${BOX} } }
          ... on OvdResult { detections { label ref { ${BOX} } } unknownLabels }
          ... on RicResult { caption phrases { text refs { ${BOX} } } } } } }`,
      { m: messageId },
    );
    expect(stored.errors).toBeUndefined();
    const message = stored.data?.message;
    expect(message.status).toBe("COMPLETE");
    type Ref = { patches?: number[]; box: { x: number; y: number; width: number; height: number } };
    const xywh = (r: Ref) => [r.box.x, r.box.y, r.box.width, r.box.height];
    const expectBox = (r: Ref, want: number[]) => {
      for (const [k, v] of xywh(r).entries()) expect(Math.abs(v - want[k]!)).toBeLessThan(0.05);
    };

    // The stream and the stored message carry the reference pipeline's objects, in order.
    const streamed = events
      .map((e) => e.data?.messageEvents)
      .filter((e) => e.__typename === "VisualRefDecoded")
      .map((e) => e.ref as Ref);
    const parts = message.parts
      .filter((p: { __typename: string }) => p.__typename === "VisualRefPart")
      .map((p: { ref: Ref }) => p.ref);
    expect(c.objects.length).toBeGreaterThan(0);
    for (const refs of [streamed, parts]) {
      expect(refs.map((r: Ref) => r.patches)).toEqual(c.objects.map((o) => o.patches));
      for (const [i, want] of c.objects.entries()) expectBox(refs[i]!, want.box_xywh);
    }

    // Each object streams the engine's label from its first event on (issue 15: one label rule).
    const startedLabels = new Map<number, string | null>();
    for (const e of events.map((x) => x.data?.messageEvents))
      if (e.__typename === "VisualRefStarted" && !startedLabels.has(e.ref.index))
        startedLabels.set(e.ref.index, e.ref.label);
    expect([...startedLabels.values()]).toEqual(c.objects.map((o) => o.label || null));

    // The task plugin read its result from those objects.
    const result = message.result;
    expect(result.__typename).toBe(RESULT_TYPE[c.task]);
    if (c.task === "REC") expectBox(result.ref, c.objects[0]!.box_xywh);
    if (c.task === "OVD") {
      const asked = new Set((c.task_input.ovd as { categories: string[] }).categories);
      const found = c.objects.filter((o) => asked.has(o.label));
      expect(result.detections.map((d: { label: string }) => d.label)).toEqual(
        found.map((o) => o.label),
      );
      expect([...result.unknownLabels].sort()).toEqual(
        [...new Set(c.objects.filter((o) => !asked.has(o.label)).map((o) => o.label))].sort(),
      );
    }
    if (c.task === "RIC") {
      const grounded = result.phrases.flatMap((p: { refs: Ref[] }) => p.refs.map(xywh));
      expect(grounded.length).toBeGreaterThan(0);
      for (const box of grounded)
        expect(
          c.objects.some((o) => o.box_xywh.every((v, k) => Math.abs(v - box[k]!) < 0.05)),
        ).toBe(true);
    }
  });
});
