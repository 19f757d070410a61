/**
 * examples/node-client as its readers run it (a child process, `tsx src/main.ts`), against
 * `padt serve` on each database: it must stream a REC answer, lose its connection after the
 * first event, resume with afterSeq, and end up with exactly what the server stored. The same
 * server also shows that packages/gateway/schema.graphql is the schema it serves.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { printPublishedSchema } from "@padt/gateway";
import { availableDatabaseKinds } from "@padt/testkit";
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExampleResult } from "../examples/node-client/src/client.js";
import { PUBLISHED_SCHEMA } from "../scripts/schema-paths.js";
import { type ServerProcess, startServerProcess } from "./helpers/server-process.js";

const root = join(import.meta.dirname, "..");
const example = join(root, "examples/node-client");
const image = join(root, "tests/fixtures/padt-tiny-shapes.images/shapes_rec_3_0.png");

// biome-ignore lint/suspicious/noExplicitAny: responses are read field by field.
async function gql(server: ServerProcess, query: string, variables = {}): Promise<any> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

describe.each(availableDatabaseKinds())("the Node client example on %s", (kind) => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess(kind, { model: join(root, "models/padt-tiny-shapes") });
  });
  afterAll(() => server?.stop());

  it("serves the published schema", async () => {
    const data = (await gql(server, getIntrospectionQuery())) as IntrospectionQuery;
    expect(
      printPublishedSchema(buildClientSchema(data)),
      "the running server's schema differs from packages/gateway/schema.graphql",
    ).toBe(readFileSync(PUBLISHED_SCHEMA, "utf8"));
  });

  it("streams a REC answer, resumes after a lost connection and has what was stored", async () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(NODE_ENV|VITEST.*|PADT_.*)$/.test(k)),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "src/main.ts", image, "the large yellow star"],
      { cwd: example, env: { ...env, PADT_URL: server.url, PADT_API_KEY: server.key } },
    );
    expect(stdout).toMatch(/connection lost after seq 1; resuming/);
    const printed = JSON.parse(stdout.trim().split("\n").at(-1) as string) as ExampleResult;

    const { message } = await gql(
      server,
      `query($m: ID!) { message(id: $m) { status lastSeq parts { __typename
        ... on TextPart { text } ... on VisualRefPart { ref { index patches box { x y width height } } } } } }`,
      { m: printed.messageId },
    );
    expect(printed.end).toBe("MessageCompleted");
    expect(message.status).toBe("COMPLETE");
    // Every event once, in order, across the two connections.
    expect(printed.droppedAfterSeq).toBe(1);
    expect(message.lastSeq).toBeGreaterThan(1);
    expect(printed.seqs).toEqual(Array.from({ length: message.lastSeq }, (_, i) => i + 1));
    // The streamed answer is the stored one: its text and its decoded objects.
    type Part = { __typename: string; text?: string; ref?: ExampleResult["refs"][number] };
    const parts = message.parts as Part[];
    const text = parts.map((p) => p.text ?? "").join("");
    const refs = parts.flatMap((p) => (p.ref ? [p.ref] : []));
    expect(printed.text).toBe(text);
    expect(refs.length).toBeGreaterThan(0);
    expect(printed.refs.map(({ index, patches, box }) => ({ index, patches, box }))).toEqual(refs);
  });
});
