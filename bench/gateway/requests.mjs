#!/usr/bin/env node
// The per-request floor of the gateway's HTTP path: a tight loop of one GraphQL request
// (`{ viewer { id } }`, `createSession`, or GET /healthz for the bare HTTP floor) against an
// in-process `--role all` gateway, one request at a time; prints the median and mean. Run it
// under `node --cpu-prof` to see where a request's time goes (client and gateway in one
// process: the client's `fetch` is in the profile too).
// Usage: npm run build && DATABASE_URL=... node bench/gateway/requests.mjs [viewer|createSession|healthz]
//   BENCH_REQUESTS (2000), after 200 warm-up requests; embedded PGlite without DATABASE_URL.
import { join } from "node:path";
import { setting } from "../lib/settings.mjs";
import { httpGql, ownerKeys, startInProcessGateway } from "./lib/in_process.mjs";
import { root } from "./lib/processes.mjs";

const QUERIES = {
  viewer: "{ viewer { id } }",
  createSession: `mutation { createSession(input: { title: "bench" }) { id } }`,
};
const which = process.argv[2] ?? "viewer";
if (which !== "healthz" && !QUERIES[which]) {
  console.error(`usage: requests.mjs [${Object.keys(QUERIES).join("|")}|healthz]`);
  process.exit(2);
}
const count = setting("BENCH_REQUESTS", 2000);
const bundle = process.env.BENCH_BUNDLE ?? join(root, "tests/fixtures/padt-tiny-random");
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

const inProcess = await startInProcessGateway({
  bundle,
  threads: 1,
  databaseUrl,
  name: "requests",
});
const [key] = await ownerKeys(inProcess.handle.db, 1, "requests");
const gql = httpGql(inProcess.gateway.url, key);
const once =
  which === "healthz"
    ? async () => (await fetch(`${inProcess.gateway.url}/healthz`)).json()
    : () => gql(QUERIES[which]);
try {
  for (let i = 0; i < 200; i++) await once();
  const ms = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await once();
    ms.push(performance.now() - t);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  console.log(
    `${which} (${databaseUrl ? "PostgreSQL" : "PGlite"}), ${count} requests: median ${sorted[Math.floor(count / 2)].toFixed(3)} ms, mean ${mean.toFixed(3)} ms, p99 ${sorted[Math.floor(count * 0.99)].toFixed(3)} ms`,
  );
} finally {
  await inProcess.close();
}
