#!/usr/bin/env node
// Where one conversation's time goes in the gateway: the bench's REC conversation
// (bench/gateway/run.mjs), one at a time through an in-process `--role all` gateway, each step
// timed from the client and with the statements it sent to the database (what drizzle's
// query logger sees: the gateway's process only, not a worker's). Medians of
// BENCH_CONVERSATIONS (20) after one warm-up; the direct engine's whole answer for comparison.
// Usage: npm run build && DATABASE_URL=... node bench/gateway/steps.mjs
//   (or embedded PGlite in a temp dir without DATABASE_URL); BENCH_TOKENS (32).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PadtEngine } from "@padt/engine";
import { connect, createApiKey, createLogger, createOwner, startGateway } from "@padt/gateway";
import { recTask } from "@padt/tasks-rec";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bundle = process.env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const imagePath = join(root, "tests/fixtures/padt-tiny-random.images/rec_200x150_0.png");
const runs = Number(process.env.BENCH_CONVERSATIONS ?? 20);
const tokens = Number(process.env.BENCH_TOKENS ?? 32);
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
const imageBytes = new Uint8Array(readFileSync(imagePath));
const imageBase64 = Buffer.from(imageBytes).toString("base64");

const statements = { count: 0 };
const scratch = mkdtempSync(join(tmpdir(), "padt-gateway-steps-"));
const engine = await PadtEngine.load({ bundle, threads: 1 });
const logger = { logQuery: () => void statements.count++ };
const handle = await connect(
  databaseUrl ? { url: databaseUrl, logger } : { dataDir: join(scratch, "db"), logger },
);
const gateway = await startGateway({
  engine,
  database: handle,
  localKey: false,
  port: 0,
  host: "127.0.0.1",
  logger: createLogger("warn"),
  config: { dataDir: scratch },
});
const owner = await createOwner(handle.db, `steps-${Date.now()}`);
const { key } = await createApiKey(handle.db, owner.id);
const ws = createClient({
  url: `${gateway.url.replace("http", "ws")}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${key}` },
  retryAttempts: 0,
});

async function gql(query, variables) {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** One conversation: per step, [ms, statements]. */
async function conversation() {
  const steps = {};
  let t = performance.now();
  let q = statements.count;
  const mark = (name) => {
    const now = performance.now();
    steps[name] = [now - t, statements.count - q];
    t = now;
    q = statements.count;
  };
  await gql("{ viewer { id } }");
  mark("viewer (auth floor)");
  const image = (
    await gql(`mutation($b: String!) { uploadImage(input: { base64: $b }) { id } }`, {
      b: imageBase64,
    })
  ).uploadImage;
  mark("uploadImage");
  const session = (await gql(`mutation { createSession(input: { title: "steps" }) { id } }`))
    .createSession;
  mark("createSession");
  const sent = await gql(
    `mutation($s: ID!, $i: ID!, $t: Int!) { sendMessage(input: {
      sessionId: $s, parts: [{ imageId: $i }], task: { rec: { expression: "red circle" } },
      options: { maxNewTokens: $t } }) { assistantMessage { id } } }`,
    { s: session.id, i: image.id, t: tokens },
  );
  mark("sendMessage");
  let events = 0;
  await new Promise((resolve, reject) => {
    ws.subscribe(
      {
        query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) { __typename } }`,
        variables: { m: sent.sendMessage.assistantMessage.id },
      },
      {
        next: () => {
          if (events++ === 0) mark("to first event");
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  mark("first to last event");
  steps.events = [events, 0];
  return steps;
}

async function engineAnswer() {
  const started = performance.now();
  const turns = [
    {
      role: "user",
      content: [
        { type: "image", data: imageBytes },
        { type: "text", text: recTask.buildPrompt({ expression: "red circle" }) },
      ],
    },
  ];
  for await (const _ of engine.generate(turns, { maxNewTokens: tokens }));
  return performance.now() - started;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await conversation();
  await engineAnswer();
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await conversation());
  const direct = [];
  for (let i = 0; i < runs; i++) direct.push(await engineAnswer());
  console.log(
    `${databaseUrl ? "PostgreSQL" : "PGlite"}; REC, ${tokens} new tokens; medians of ${runs}`,
  );
  console.log("step                      ms  statements");
  for (const name of Object.keys(all[0])) {
    const ms = median(all.map((s) => s[name][0]));
    const n = median(all.map((s) => s[name][1]));
    console.log(
      `${name.padEnd(22)} ${ms.toFixed(name === "events" ? 0 : 1).padStart(6)}  ${String(n).padStart(6)}`,
    );
  }
  console.log(`${"direct engine answer".padEnd(22)} ${median(direct).toFixed(1).padStart(6)}`);
} finally {
  await ws.dispose();
  await gateway.close();
  await handle.close();
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
}
