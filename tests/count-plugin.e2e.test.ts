/**
 * Adding a task is one package and one line of configuration: the example counting plugin
 * (@padt/tasks-count) is not among the gateway's default tasks; this test adds it through the
 * gateway's configuration only, then runs it end to end over real HTTP, on a real database,
 * with the real engine and the tiny random bundle.
 */
import { readFileSync } from "node:fs";
import { PadtEngine } from "@padt/engine";
import { SHIPPED_TASKS } from "@padt/gateway";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Body, type E2eGateway, startE2eGateway } from "./helpers/e2e-gateway.js";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const image = readFileSync(`${fixtures}padt-tiny-random.images/ovd_448x336_0.png`).toString(
  "base64",
);

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle: `${fixtures}padt-tiny-random`, threads: 1 });
});
afterAll(() => engine?.close());

it("is not one of the gateway's default tasks", () => {
  expect(SHIPPED_TASKS).not.toContain("@padt/tasks-count");
});

describe.each(availableDatabaseKinds())(
  "the count plugin, added by configuration, on %s",
  (kind) => {
    let server: E2eGateway;
    let gql: E2eGateway["gql"];

    beforeAll(async () => {
      // The one line of configuration (PADT_TASKS=@padt/tasks-count or --task does the same).
      server = await startE2eGateway(kind, engine, {
        tasks: [...SHIPPED_TASKS, "@padt/tasks-count"],
      });
      gql = server.gql;
    });
    afterAll(() => server?.close());

    it("lists the task and answers a count request with a CountResult", async () => {
      const listed = await gql("{ tasks { name inputField resultType supported } }");
      expect(listed.errors).toBeUndefined();
      expect(listed.data?.tasks).toContainEqual({
        name: "count",
        inputField: "count",
        resultType: "CountResult",
        supported: false, // registered by configuration; the bundle does not list it
      });

      const img = (
        await gql(`mutation($b: String!) { uploadImage(input: {base64: $b}) { id } }`, { b: image })
      ).data?.uploadImage.id;
      const session = (await gql(`mutation { createSession(input: {title: "count"}) { id } }`)).data
        ?.createSession.id;
      const sent = await gql(
        `mutation($s: ID!, $i: ID!) {
        sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }],
                             task: { count: { object: "red circle" } }, options: { maxNewTokens: 24 } }) {
          assistantMessage { id }
        }
      }`,
        { s: session, i: img },
      );
      expect(sent.errors).toBeUndefined();
      const id = sent.data?.sendMessage.assistantMessage.id;

      const query = `query($m: ID!) { message(id: $m) { status task
      result { __typename ... on CountResult { object count partial issues refs { index box { x y width height } score } } } } }`;
      let message: Body["data"] = {};
      for (let i = 0; i < 600; i++) {
        const got = await gql(query, { m: id });
        expect(got.errors).toBeUndefined();
        message = got.data?.message;
        if (!["PENDING", "STREAMING"].includes(message?.status)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(message?.status).toBe("COMPLETE");
      expect(message?.task).toBe("count");
      const result = message?.result;
      expect(result).toMatchObject({ __typename: "CountResult", object: "red circle" });
      expect(Number.isInteger(result.count)).toBe(true);
      // Random weights: whatever it counted, the refs are exactly the counted objects.
      expect(result.refs).toHaveLength(result.count);
      for (const ref of result.refs) expect(ref.box.width).toBeGreaterThanOrEqual(0);
    });

    it("refuses invalid count input with TASK_INPUT_INVALID", async () => {
      const session = (await gql(`mutation { createSession(input: {title: "bad"}) { id } }`)).data
        ?.createSession.id;
      const sent = await gql(
        `mutation($s: ID!) { sendMessage(input: { sessionId: $s, parts: [{ text: "hi" }],
        task: { count: { object: "  " } } }) { assistantMessage { id } } }`,
        { s: session },
      );
      expect(sent.errors?.[0]?.extensions?.code).toBe("TASK_INPUT_INVALID");
    });
  },
);
