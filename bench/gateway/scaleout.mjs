#!/usr/bin/env node
// Scale-out bench (issue 18): the load bench's clients (lib/load_clients.mjs) against the
// gateway + worker topology as plain processes on one PostgreSQL server: 2 `padt serve
// --role gateway` replicas and N `padt worker --threads 1`, clients spread over the replicas.
// Runs the topology once per worker count (default 1 then 2, same database, fresh processes)
// and prints each run's counts, answers per second and the throughput ratio to the first run.
// Usage: npm run build && DATABASE_URL=postgres://... node bench/gateway/scaleout.mjs
//   BENCH_WORKERS ("1,2"), BENCH_GATEWAYS (2), BENCH_CLIENTS (32), BENCH_SECONDS (60),
//   BENCH_LOAD_INFLIGHT (1 send in flight per client), BENCH_TOKENS (32), BENCH_BUNDLE (the
//   tiny random fixture), BENCH_HANG_S (120), BENCH_TIMEOUT_S (600: everything it started is
//   killed and the run fails past it). Loopback only; it stops everything it starts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createApiKey, createOwner, migrate } from "@padt/gateway";
import { setting } from "../lib/settings.mjs";
import { cores, machineCpuS, processCpuS } from "./lib/cpu.mjs";
import { counts, failedCount, loadRow, markdownTable, runClients } from "./lib/load_clients.mjs";
import { killStarted, root, startServe, startWorker, stopStarted } from "./lib/processes.mjs";

const env = process.env;
const workerCounts = (env.BENCH_WORKERS ?? "1,2").split(",").map(Number);
if (!workerCounts.every((n) => Number.isInteger(n) && n >= 1))
  throw new Error("BENCH_WORKERS must be positive integers, comma-separated");
const gateways = setting("BENCH_GATEWAYS", 2);
const clients = setting("BENCH_CLIENTS", 32);
const seconds = setting("BENCH_SECONDS", 60);
const inflight = setting("BENCH_LOAD_INFLIGHT", 1);
const tokens = setting("BENCH_TOKENS", 32);
const hangMs = setting("BENCH_HANG_S", 120) * 1000;
const timeoutS = setting("BENCH_TIMEOUT_S", 600);
const bundle = env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const databaseUrl = env.TEST_DATABASE_URL ?? env.DATABASE_URL;
if (!databaseUrl) throw new Error("the topology needs PostgreSQL: set DATABASE_URL");

const scratch = mkdtempSync(join(tmpdir(), "padt-scaleout-"));
// Bounded: past the time limit every process it started is killed, and the run fails.
setTimeout(async () => {
  console.error(`scale-out bench: gave up after ${timeoutS} s`);
  await killStarted();
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}, timeoutS * 1000).unref();

const handle = await connect({ url: databaseUrl });
await migrate(handle);
const keys = [];
for (let c = 0; c < clients; c++) {
  const owner = await createOwner(handle.db, `scaleout-${Date.now()}-${c}`);
  keys.push((await createApiKey(handle.db, owner.id)).key);
}
await handle.close();

const shared = ["--database-url", databaseUrl, "--model", bundle];
async function runTopology(workers) {
  try {
    const replicas = await Promise.all(
      Array.from({ length: gateways }, () =>
        startServe(["--role", "gateway", "--data-dir", join(scratch, "data"), ...shared]),
      ),
    );
    const workerProcs = await Promise.all(
      Array.from({ length: workers }, () => startWorker([...shared, "--threads", "1"])),
    );
    const urls = replicas.map((r) => r.url);
    const cpuOf = (procs) => procs.reduce((s, p) => s + processCpuS(p.child.pid), 0);
    const before = { gw: cpuOf(replicas), wk: cpuOf(workerProcs), me: process.cpuUsage() };
    const machine = machineCpuS();
    const stats = await runClients({ urls, keys, seconds, inflight, tokens, hangMs });
    const after = machineCpuS();
    const me = process.cpuUsage(before.me);
    // Core-seconds per part over the run; the rest of the busy time is PostgreSQL and others.
    const cpu = {
      gateways: cpuOf(replicas) - before.gw,
      workers: cpuOf(workerProcs) - before.wk,
      clients: (me.user + me.system) / 1e6,
      busy: after.busy - machine.busy,
      capacity: after.total - machine.total,
    };
    return { ...stats, cpu };
  } finally {
    // Graceful stop (drain), so the next run starts on a quiet database.
    await stopStarted();
  }
}

const results = [];
try {
  for (const workers of workerCounts) results.push({ workers, stats: await runTopology(workers) });
} finally {
  await killStarted();
  rmSync(scratch, { recursive: true, force: true });
}

console.log(
  `${gateways} gateways (--role gateway) + N workers (padt worker --threads 1), PostgreSQL; ` +
    `${clients} clients (one key each, spread over the gateways), ${inflight} send(s) in flight ` +
    `per client, ${seconds} s; REC ${tokens} new tokens, ${bundle.split("/").at(-1)}`,
);
console.log("");
const base = results[0];
const perS = (s) => s.completed / s.elapsedS;
const rows = results.map(({ workers, stats }) => {
  const [header, values] = loadRow(stats);
  return {
    header: ["workers", "answers/s", `throughput vs ${base.workers} worker(s)`, ...header],
    values: [
      workers,
      perS(stats).toFixed(2),
      `${(perS(stats) / perS(base.stats)).toFixed(2)}x`,
      ...values,
    ],
  };
});
console.log(markdownTable([rows[0].header, ...rows.map((r) => r.values)]));
console.log("");
const c1 = (x) => (Number.isFinite(x) ? x.toFixed(0) : "-");
console.log(
  markdownTable([
    [
      "workers",
      `machine busy (of ${cores()} cores)`,
      "gateways (core-s)",
      "workers (core-s)",
      "bench clients (core-s)",
      "rest: PostgreSQL, others (core-s)",
    ],
    ...results.map(({ workers, stats: { cpu } }) => [
      workers,
      `${c1((100 * cpu.busy) / cpu.capacity)} %`,
      c1(cpu.gateways),
      c1(cpu.workers),
      c1(cpu.clients),
      c1(cpu.busy - cpu.gateways - cpu.workers - cpu.clients),
    ]),
  ]),
);
let bad = 0;
for (const { workers, stats } of results) {
  bad += failedCount(stats) + stats.hangs;
  if (Object.keys(stats.otherErrors).length)
    console.log(`${workers} worker(s), other errors: ${counts(stats.otherErrors)}`);
}
process.exitCode = bad > 0 ? 1 : 0;
