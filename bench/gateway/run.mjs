#!/usr/bin/env node
// Gateway benchmark: N concurrent clients, each running REC conversations through the real
// gateway (HTTP + graphql-ws on 127.0.0.1, a real database, the real engine): upload the
// image, create a session, sendMessage (task rec, fixed maxNewTokens), subscribe to
// messageEvents until the answer completes. Then the same workload as direct engine calls in
// the same process, and the gateway's overhead as a ratio. On PostgreSQL also the scale-out
// topology (issue 18): `padt serve --role gateway` + one `padt worker` as child processes, the
// same clients against that gateway, the same ratios against the same direct engine.
// Usage: npm run build && node bench/gateway/run.mjs
//   BENCH_CLIENTS (default "1,4,8"), BENCH_CONVERSATIONS per client (default 4),
//   BENCH_TOKENS (default 32), BENCH_THREADS (default 1), BENCH_BUNDLE (default: the tiny
//   random fixture), TEST_DATABASE_URL / DATABASE_URL (default: embedded PGlite in a temp dir),
//   BENCH_TIMEOUT_S (default 900: the whole run stops with an error past it),
//   BENCH_TOPOLOGY (default 1 on PostgreSQL; 0 skips the gateway + worker processes).
import { join } from "node:path";
import { httpGql, ownerKeys, socketFor, startInProcessGateway } from "./lib/in_process.mjs";
import { killStarted, root, startServe, startWorker, stopStarted } from "./lib/processes.mjs";
import { recConversation, recTurns, withTimeout } from "./lib/rec_conversation.mjs";

const bundle = process.env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const clientCounts = (process.env.BENCH_CLIENTS ?? "1,4,8").split(",").map(Number);
const perClient = Number(process.env.BENCH_CONVERSATIONS ?? 4);
const tokens = Number(process.env.BENCH_TOKENS ?? 32);
const threads = Number(process.env.BENCH_THREADS ?? 1);
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
const timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? 900);
const withTopology = Boolean(databaseUrl) && process.env.BENCH_TOPOLOGY !== "0";
const CONVERSATION_TIMEOUT_MS = 120_000;

for (const n of [...clientCounts, perClient, tokens, threads, timeoutS])
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad BENCH_* setting: ${n}`);

// The run stops by itself: a watchdog ends the process if something hangs.
setTimeout(() => {
  console.error(`gateway bench: gave up after ${timeoutS} s`);
  void killStarted().then(() => process.exit(1));
}, timeoutS * 1000).unref();

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
/** One REC conversation over HTTP + graphql-ws; times from its first request. */
async function gatewayConversation(url, key, ws) {
  const started = performance.now();
  let first;
  const last = await recConversation({
    gql: httpGql(url, key),
    ws,
    tokens,
    onEvent: () => {
      first ??= performance.now();
    },
    timeoutMs: CONVERSATION_TIMEOUT_MS,
  });
  if (last?.__typename !== "MessageCompleted")
    throw new Error(`answer ended with ${JSON.stringify(last)}`);
  return { firstMs: first - started, totalMs: performance.now() - started };
}

/** The same work as direct engine calls: image bytes and the REC plugin's prompt. */
async function engineConversation(engine) {
  const started = performance.now();
  const turns = recTurns();
  let first;
  let done;
  const run = async () => {
    for await (const event of engine.generate(turns, { maxNewTokens: tokens })) {
      first ??= performance.now();
      if (event.type === "done") done = event;
    }
  };
  await withTimeout(run(), "engine.generate", CONVERSATION_TIMEOUT_MS);
  if (!done) throw new Error("generation ended without a done event");
  return { firstMs: first - started, totalMs: performance.now() - started };
}

/** `clients` loops of `perClient` conversations at once; throughput and latency quantiles. */
async function measure(clients, conversation) {
  const started = performance.now();
  const runs = (
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const out = [];
        for (let i = 0; i < perClient; i++) out.push(await conversation(c));
        return out;
      }),
    )
  ).flat();
  const seconds = (performance.now() - started) / 1000;
  const first = runs.map((r) => r.firstMs);
  const total = runs.map((r) => r.totalMs);
  return {
    perS: runs.length / seconds,
    firstP50: quantile(first, 0.5),
    firstP99: quantile(first, 0.99),
    totalP50: quantile(total, 0.5),
    totalP99: quantile(total, 0.99),
  };
}

const inProcess = await startInProcessGateway({
  bundle,
  threads,
  databaseUrl,
  name: "gateway-bench",
});
const { engine, gateway, scratch } = inProcess;
const keys = await ownerKeys(inProcess.handle.db, Math.max(...clientCounts), "bench");
const socketsFor = (url) => keys.map((key) => socketFor(url, key));
const sockets = socketsFor(gateway.url);
/** The gateway + worker topology: its URL and sockets, or undefined on PGlite. */
let topology;

const results = [];
try {
  if (withTopology) {
    const shared = ["--database-url", databaseUrl, "--model", bundle];
    const serve = startServe(["--role", "gateway", "--data-dir", scratch, ...shared]);
    const worker = startWorker([...shared, "--threads", String(threads), "--workers", "1"]);
    const [{ url }] = await Promise.all([serve, worker]);
    topology = { url, sockets: socketsFor(url) };
  }
  // Warm-up: graphs, caches and connections, not timed.
  await gatewayConversation(gateway.url, keys[0], sockets[0]);
  if (topology) await gatewayConversation(topology.url, keys[0], topology.sockets[0]);
  await engineConversation(engine);
  for (const clients of clientCounts) {
    const viaGateway = await measure(clients, (c) =>
      gatewayConversation(gateway.url, keys[c], sockets[c]),
    );
    const viaTopology =
      topology &&
      (await measure(clients, (c) =>
        gatewayConversation(topology.url, keys[c], topology.sockets[c]),
      ));
    const direct = await measure(clients, () => engineConversation(engine));
    results.push({ clients, viaGateway, viaTopology, direct });
  }
} finally {
  await Promise.all(sockets.map((s) => s.dispose()));
  await Promise.all((topology?.sockets ?? []).map((s) => s.dispose()));
  await stopStarted();
  await inProcess.close();
}

const f = (x, digits = 0) => x.toFixed(digits).padStart(7);
console.log(
  `bundle ${bundle}; ${databaseUrl ? "PostgreSQL" : "PGlite (embedded)"}; REC, ${tokens} new tokens; ` +
    `${perClient} conversations per client; engine: 1 worker, ${threads} thread(s)` +
    (topology ? "; topology: padt serve --role gateway + padt worker (child processes)" : ""),
);
console.log(
  "clients  path       conv/s  first p50  first p99  done p50  done p99 (ms)   gateway overhead",
);
for (const { clients, viaGateway, viaTopology, direct: d } of results) {
  const paths = [
    ["gateway ", viaGateway],
    ...(viaTopology ? [["topology", viaTopology]] : []),
    ["engine  ", d],
  ];
  for (const [name, r] of paths)
    console.log(
      `${String(clients).padStart(7)}  ${name} ${f(r.perS, 2)}  ${f(r.firstP50)}    ${f(r.firstP99)}    ${f(r.totalP50)}  ${f(r.totalP99)}` +
        (r !== d
          ? `        throughput ${(d.perS / r.perS).toFixed(2)}x lower, done p50 ${(r.totalP50 / d.totalP50).toFixed(2)}x, first p50 ${(r.firstP50 / d.firstP50).toFixed(2)}x`
          : ""),
    );
}
