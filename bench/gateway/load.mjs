#!/usr/bin/env node
// Load test (issue 14): C clients, one API key each, keep S sends in flight for D seconds
// against `padt serve` (the built CLI, a child process on 127.0.0.1). Each send: a new session,
// sendMessage (REC on a small image, fixed maxNewTokens), then messageEvents until the answer
// ends. A refused send (QUEUE_FULL / TOO_MANY_GENERATIONS) waits its retryAfterMs and tries
// again. Counted: answers accepted then failed, answers that never end (hangs), and how the
// retry hints compare with the wait they announced.
// Usage: npm run build && node bench/gateway/load.mjs
//   BENCH_LOAD_CLIENTS (32), BENCH_LOAD_SECONDS (60), BENCH_LOAD_INFLIGHT (3 per client),
//   BENCH_TOKENS (32), BENCH_BUNDLE (the tiny random fixture), TEST_DATABASE_URL or
//   DATABASE_URL (PostgreSQL; unset: PGlite in a temporary directory), BENCH_HANG_S (120: an
//   accepted answer without its final event by then is a hang), BENCH_TIMEOUT_S (400: the
//   whole run stops with an error past it). Loopback only; everything it starts, it stops.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, createApiKey, createOwner, migrate } from "@padt/gateway";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const root = fileURLToPath(new URL("../..", import.meta.url));
const env = process.env;
const setting = (name, fallback) => {
  const n = Number(env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const clients = setting("BENCH_LOAD_CLIENTS", 32);
const seconds = setting("BENCH_LOAD_SECONDS", 60);
const inflight = setting("BENCH_LOAD_INFLIGHT", 3);
const tokens = setting("BENCH_TOKENS", 32);
const hangMs = setting("BENCH_HANG_S", 120) * 1000;
const timeoutS = setting("BENCH_TIMEOUT_S", 400);
const bundle = env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const databaseUrl = env.TEST_DATABASE_URL ?? env.DATABASE_URL;
const image = readFileSync(
  join(root, "tests/fixtures/padt-tiny-random.images/rec_200x150_0.png"),
).toString("base64");
const bin = join(root, "packages/cli/dist/bin.js");

let server;
const scratch = mkdtempSync(join(tmpdir(), "padt-load-"));
const cleanup = () => {
  server?.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
};
// Bounded: past the time limit everything stops, with an error.
setTimeout(() => {
  console.error(`load bench: gave up after ${timeoutS} s`);
  cleanup();
  process.exit(1);
}, timeoutS * 1000).unref();

// Keys first (PGlite admits one process per directory, so before the server starts).
const dataDir = join(scratch, "data");
const handle = await connect(databaseUrl ? { url: databaseUrl } : { dataDir: join(dataDir, "db") });
await migrate(handle);
const keys = [];
for (let c = 0; c < clients; c++) {
  const owner = await createOwner(handle.db, `load-${Date.now()}-${c}`);
  keys.push((await createApiKey(handle.db, owner.id)).key);
}
await handle.close();

const serverEnv = Object.fromEntries(
  Object.entries(env).filter(([k]) => !/^(NODE_ENV|DATABASE_URL|PORT|HOST|PADT_.*)$/.test(k)),
);
const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
if (databaseUrl) args.push("--database-url", databaseUrl);
server = spawn(process.execPath, [bin, ...args, "--model", bundle], {
  env: serverEnv,
  stdio: ["ignore", "pipe", "pipe"],
});
let log = "";
server.stdout.on("data", (d) => {
  log += d;
});
server.stderr.on("data", (d) => {
  log += d;
});
const url = await new Promise((resolve, reject) => {
  const check = () => {
    const m = /gateway on (http:\/\/\S+)\/graphql/.exec(log);
    if (m) resolve(m[1]);
  };
  server.stdout.on("data", check);
  server.once("exit", (code) => reject(new Error(`padt serve exited (${code}):\n${log}`)));
});

const gql = async (key, query, variables) => {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : NaN;
};

const stats = {
  accepted: 0,
  completed: 0,
  failedAfterAccept: {},
  hangs: 0,
  refusals: {},
  /** Per send refused at least once: the first hint, the wait until accepted, the tries. */
  retried: [],
  latencyMs: [],
  otherErrors: {},
};
const deadline = performance.now() + seconds * 1000;

async function send(key, ws, imageId) {
  const session = (await gql(key, `mutation { createSession(input: {}) { id } }`)).data
    ?.createSession.id;
  let first;
  let tries = 0;
  let messageId;
  for (;;) {
    tries++;
    const r = await gql(
      key,
      `mutation($s: ID!, $i: ID!, $t: Int!) { sendMessage(input: { sessionId: $s,
        parts: [{ imageId: $i }], task: { rec: { expression: "red circle" } },
        options: { maxNewTokens: $t } }) { assistantMessage { id } } }`,
      { s: session, i: imageId, t: tokens },
    );
    if (!r.errors) {
      messageId = r.data.sendMessage.assistantMessage.id;
      break;
    }
    const { code, retryAfterMs } = r.errors[0].extensions ?? {};
    if (typeof retryAfterMs !== "number") {
      stats.otherErrors[code] = (stats.otherErrors[code] ?? 0) + 1;
      return;
    }
    stats.refusals[code] = (stats.refusals[code] ?? 0) + 1;
    first ??= { at: performance.now(), hint: retryAfterMs };
    await sleep(retryAfterMs);
  }
  const acceptedAt = performance.now();
  stats.accepted++;
  if (first) stats.retried.push({ hint: first.hint, waited: acceptedAt - first.at, tries });
  const last = await new Promise((resolve) => {
    let end;
    const timer = setTimeout(() => resolve({ __typename: "hang" }), hangMs);
    ws.subscribe(
      {
        query: `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
          __typename ... on MessageFailed { error { code } } } }`,
        variables: { m: messageId },
      },
      {
        next: (e) => {
          end = e.data?.messageEvents;
        },
        error: () => {
          clearTimeout(timer);
          resolve({ __typename: "subscription error" });
        },
        complete: () => {
          clearTimeout(timer);
          resolve(end);
        },
      },
    );
  });
  if (last?.__typename === "MessageCompleted") {
    stats.completed++;
    stats.latencyMs.push(performance.now() - acceptedAt);
  } else if (last?.__typename === "hang") {
    stats.hangs++;
  } else {
    const why = last?.error?.code ?? last?.__typename ?? "no final event";
    stats.failedAfterAccept[why] = (stats.failedAfterAccept[why] ?? 0) + 1;
  }
}

async function client(key) {
  const ws = createClient({
    url: `${url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  const imageId = (
    await gql(key, `mutation($b: String!) { uploadImage(input: { base64: $b }) { id } }`, {
      b: image,
    })
  ).data.uploadImage.id;
  const lane = async () => {
    while (performance.now() < deadline) await send(key, ws, imageId);
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  await ws.dispose();
}

const started = performance.now();
try {
  await Promise.all(keys.map(client));
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  server = undefined;
  cleanup();
}
const elapsed = (performance.now() - started) / 1000;

// Observed wait: from a send's first refusal to its acceptance, retrying on each hint.
const ratios = stats.retried.map((r) => r.waited / r.hint);
const within = ratios.filter((x) => x >= 0.5 && x <= 2).length;
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const p = (xs, q, d = 0) => fmt(quantile(xs, q), d);
const counts = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "0";
const failed = Object.values(stats.failedAfterAccept).reduce((a, b) => a + b, 0);
const tries = stats.retried.map((r) => r.tries);
const answerS = stats.latencyMs.map((ms) => ms / 1000);
const rows = [
  [
    "accepted",
    "completed",
    "accepted then failed",
    "hangs",
    "refused",
    "answer p50 / p95 (s)",
    "refused then accepted",
    "tries p50 / max",
    "first hint p50 (ms)",
    "observed wait p50 (ms)",
    "wait / hint p10 / p50 / p90",
    "hint within 2x of the wait",
  ],
  [
    stats.accepted,
    stats.completed,
    failed ? `${failed} (${counts(stats.failedAfterAccept)})` : 0,
    stats.hangs,
    counts(stats.refusals),
    `${p(answerS, 0.5, 1)} / ${p(answerS, 0.95, 1)}`,
    stats.retried.length,
    `${p(tries, 0.5)} / ${fmt(Math.max(0, ...tries))}`,
    p(
      stats.retried.map((r) => r.hint),
      0.5,
    ),
    p(
      stats.retried.map((r) => r.waited),
      0.5,
    ),
    `${p(ratios, 0.1, 2)} / ${p(ratios, 0.5, 2)} / ${p(ratios, 0.9, 2)}`,
    ratios.length ? `${fmt((100 * within) / ratios.length)} %` : "-",
  ],
];
console.log(
  `${clients} clients (one key each), ${inflight} sends in flight per client, ${seconds} s ` +
    `(${fmt(elapsed)} s with the drain), ${databaseUrl ? "PostgreSQL" : "PGlite"}, ` +
    `REC ${tokens} new tokens, ${bundle.split("/").at(-1)}, server defaults`,
);
console.log("");
console.log(`| ${rows[0].join(" | ")} |`);
console.log(`|${" --- |".repeat(rows[0].length)}`);
console.log(`| ${rows[1].join(" | ")} |`);
if (Object.keys(stats.otherErrors).length)
  console.log(`other errors: ${counts(stats.otherErrors)}`);
process.exitCode = failed + stats.hangs > 0 ? 1 : 0;
