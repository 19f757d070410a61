#!/usr/bin/env node
// Job pickup latency (enqueue committed -> handler start) of the two PostgreSQL job queues
// the scale-out design could build on, on this machine, against a loopback PostgreSQL:
//   DATABASE_URL=postgres://postgres@127.0.0.1:54340/postgres node bench/queue/pickup.mjs
// Each library gets its own fresh schema. Enqueueing goes through SQL on our own pg client,
// inside a transaction, as sendMessage would do it. Two phases per library:
//   idle:    one job at a time, the next sent once the previous one started;
//   trickle: a job every TRICKLE_MS while earlier ones are still being handled (HANDLE_MS each).
// Bounded: JOBS per phase, and the whole run stops after DEADLINE_MS whatever happens.
import { performance } from "node:perf_hooks";
import { Logger, run as runGraphile } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write("DATABASE_URL is required (a loopback PostgreSQL)\n");
  process.exit(2);
}
const JOBS = Number(process.env.JOBS ?? 300);
const TRICKLE_MS = Number(process.env.TRICKLE_MS ?? 20);
const HANDLE_MS = Number(process.env.HANDLE_MS ?? 15);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 180_000);
const deadline = setTimeout(() => {
  process.stderr.write(`stopped after ${DEADLINE_MS} ms\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), max: s.at(-1) };
}

/** Runs both phases against one queue: `start(onJob)` -> { enqueue(client, id), stop() }. */
async function measure(name, start, jobs = JOBS) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const sentAt = new Map();
  const latencies = [];
  let started = 0;
  let wake;
  const onJob = async (id) => {
    const t0 = sentAt.get(id);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
    started += 1;
    wake?.();
    await sleep(HANDLE_MS);
  };
  const queue = await start(onJob);
  const enqueue = async (id) => {
    await client.query("begin");
    await client.query("select 1"); // stands for the exchange rows written in the same transaction
    await queue.enqueue(client, id);
    // From the moment the commit is sent: a wake-up can start the handler before the
    // commit's acknowledgement reaches us.
    sentAt.set(id, performance.now());
    await client.query("commit");
  };
  const waitFor = (n) =>
    new Promise((resolve) => {
      const check = () => {
        if (started >= n) resolve();
        else wake = check;
      };
      check();
    });
  // Warm-up (schema caches, first LISTEN).
  for (let i = 0; i < 10; i++) {
    await enqueue(`warm-${i}`);
    await waitFor(i + 1);
  }
  const results = {};
  for (const phase of ["idle", "trickle"]) {
    latencies.length = 0;
    started = 0;
    const t0 = performance.now();
    for (let i = 0; i < jobs; i++) {
      await enqueue(`${phase}-${i}`);
      if (phase === "idle") {
        await waitFor(i + 1);
        await sleep(5);
      } else {
        await sleep(TRICKLE_MS);
      }
    }
    await waitFor(jobs);
    const wall = performance.now() - t0;
    results[phase] = { ...percentiles(latencies), jobsPerS: (jobs / wall) * 1000 };
  }
  await queue.stop();
  await client.end();
  for (const [phase, r] of Object.entries(results)) {
    process.stdout.write(
      `${name.padEnd(28)} ${phase.padEnd(8)} n=${r.n} p50=${r.p50.toFixed(1)} ms  p90=${r.p90.toFixed(1)} ms  p99=${r.p99.toFixed(1)} ms  max=${r.max.toFixed(1)} ms\n`,
    );
  }
  return results;
}

async function dropSchema(schema) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
}

async function graphile(onJob) {
  await dropSchema("bench_graphile_worker");
  const runner = await runGraphile({
    connectionString: url,
    schema: "bench_graphile_worker",
    concurrency: 2,
    noHandleSignals: true,
    pollInterval: 2000,
    taskList: { pickup: async (payload) => onJob(payload.id) },
    logger: new Logger(() => () => {}),
  });
  return {
    enqueue: (client, id) =>
      client.query(
        "select bench_graphile_worker.add_job('pickup', json_build_object('id', $1::text))",
        [id],
      ),
    stop: async () => {
      await runner.stop();
      await dropSchema("bench_graphile_worker");
    },
  };
}

function pgBoss(useListenNotify) {
  return async (onJob) => {
    const schema = useListenNotify ? "bench_pgboss_notify" : "bench_pgboss";
    await dropSchema(schema);
    const boss = new PgBoss({ connectionString: url, schema, useListenNotify });
    boss.on("error", (e) => process.stderr.write(`pg-boss: ${e.message}\n`));
    await boss.start();
    await boss.createQueue("pickup", { notify: useListenNotify });
    await boss.work(
      "pickup",
      { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 0.5 },
      async ([job]) => onJob(job.data.id),
    );
    return {
      // pg-boss enqueues through a caller's executor ({ db }), so it joins our transaction too.
      enqueue: (client, id) =>
        boss.send(
          "pickup",
          { id },
          { db: { executeSql: (text, values) => client.query(text, values) } },
        ),
      stop: async () => {
        await boss.stop({ graceful: true, timeout: 5000 });
        await dropSchema(schema);
      },
    };
  };
}

process.stdout.write(
  `pickup latency, ${JOBS} jobs per phase, trickle every ${TRICKLE_MS} ms, handler ${HANDLE_MS} ms, concurrency 2\n`,
);
await measure("graphile-worker 0.16", graphile);
await measure("pg-boss 12 (LISTEN/NOTIFY)", pgBoss(true));
// Polling alone is bounded by its interval (0.5 s at least): a few jobs show it.
await measure("pg-boss 12 (polling 0.5 s)", pgBoss(false), Math.ceil(JOBS / 10));
process.exit(0);
