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
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createApiKey, createOwner, migrate } from "@padt/gateway";
import { setting } from "../lib/settings.mjs";
import { counts, failedCount, loadRow, markdownTable, runClients } from "./lib/load_clients.mjs";
import { killStarted, root, startServe } from "./lib/processes.mjs";

const env = process.env;
const clients = setting("BENCH_LOAD_CLIENTS", 32);
const seconds = setting("BENCH_LOAD_SECONDS", 60);
const inflight = setting("BENCH_LOAD_INFLIGHT", 3);
const tokens = setting("BENCH_TOKENS", 32);
const hangMs = setting("BENCH_HANG_S", 120) * 1000;
const timeoutS = setting("BENCH_TIMEOUT_S", 400);
const bundle = env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const databaseUrl = env.TEST_DATABASE_URL ?? env.DATABASE_URL;

const scratch = mkdtempSync(join(tmpdir(), "padt-load-"));
const cleanup = async () => {
  await killStarted();
  rmSync(scratch, { recursive: true, force: true });
};
// Bounded: past the time limit everything stops, with an error.
setTimeout(() => {
  console.error(`load bench: gave up after ${timeoutS} s`);
  void cleanup().then(() => process.exit(1));
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

const args = ["--data-dir", dataDir, "--model", bundle];
if (databaseUrl) args.push("--database-url", databaseUrl);
let stats;
try {
  const server = await startServe(args);
  stats = await runClients({ urls: [server.url], keys, seconds, inflight, tokens, hangMs });
  await server.stop();
} finally {
  await cleanup();
}

const failed = failedCount(stats);
console.log(
  `${clients} clients (one key each), ${inflight} sends in flight per client, ${seconds} s ` +
    `(${stats.elapsedS.toFixed(0)} s with the drain), ${databaseUrl ? "PostgreSQL" : "PGlite"}, ` +
    `REC ${tokens} new tokens, ${bundle.split("/").at(-1)}, server defaults`,
);
console.log("");
console.log(markdownTable(loadRow(stats)));
// BENCH_LOAD_DUMP=file: every retried send's [ms since first refusal, hint] pairs, to study misses.
if (env.BENCH_LOAD_DUMP) writeFileSync(env.BENCH_LOAD_DUMP, JSON.stringify(stats.retried));
if (Object.keys(stats.otherErrors).length)
  console.log(`other errors: ${counts(stats.otherErrors)}`);
process.exitCode = failed + stats.hangs > 0 ? 1 : 0;
