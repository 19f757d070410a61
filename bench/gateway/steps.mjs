#!/usr/bin/env node
// Where one conversation's time goes in the gateway: the bench's REC conversation
// (bench/gateway/run.mjs), one at a time through an in-process `--role all` gateway, each step
// timed from the client and with the statements it sent to the database (what drizzle's
// query logger sees: the gateway's process only, not a worker's). Medians of
// BENCH_CONVERSATIONS (20) after one warm-up; the direct engine's whole answer for comparison.
// Usage: npm run build && DATABASE_URL=... node bench/gateway/steps.mjs
//   (or embedded PGlite in a temp dir without DATABASE_URL); BENCH_TOKENS (32).
import { join } from "node:path";
import { setting } from "../lib/settings.mjs";
import { httpGql, ownerKeys, socketFor, startInProcessGateway } from "./lib/in_process.mjs";
import { root } from "./lib/processes.mjs";
import { recConversation, recTurns } from "./lib/rec_conversation.mjs";

const bundle = process.env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const runs = setting("BENCH_CONVERSATIONS", 20);
const tokens = setting("BENCH_TOKENS", 32);
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

const statements = { count: 0 };
const inProcess = await startInProcessGateway({
  bundle,
  threads: 1,
  databaseUrl,
  name: "gateway-steps",
  dbLogger: { logQuery: () => void statements.count++ },
});
const { engine, gateway } = inProcess;
const [key] = await ownerKeys(inProcess.handle.db, 1, "steps");
const ws = socketFor(gateway.url, key);
const gql = httpGql(gateway.url, key);

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
  let events = 0;
  await recConversation({
    gql,
    ws,
    tokens,
    onStep: mark,
    onEvent: () => {
      if (events++ === 0) mark("to first event");
    },
  });
  mark("first to last event");
  steps.events = [events, 0];
  return steps;
}

async function engineAnswer() {
  const started = performance.now();
  for await (const _ of engine.generate(recTurns(), { maxNewTokens: tokens }));
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
  await inProcess.close();
}
