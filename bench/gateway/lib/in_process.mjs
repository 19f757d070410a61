// An in-process `--role all` gateway for the benches that time it against the direct engine
// (run.mjs, steps.mjs): the engine loaded here, the database (PostgreSQL at `databaseUrl`, else
// embedded PGlite in a temp dir), API keys of fresh owners, and the clients that talk to it.
//
// tests/helpers/e2e-gateway.ts starts the same kind of gateway for the end-to-end tests; both
// build on @padt/gateway's contract (connect, startGateway, createOwner, createApiKey) and share
// nothing else on purpose. What looks alike is glue (startGateway's loopback options, a fetch and
// a graphql-ws client with the key) that differs where it matters: here a bundle loaded with a
// fixed thread count, a database that outlives the run (or PGlite) with drizzle's statement
// logger, a client that throws on `errors` so a timed loop cannot count a refusal as an answer;
// there any EngineClient (scripted or real), the testkit's throw-away database, a client that
// returns the body for assertions on errors. Sharing it would take a module both may import: the
// testkit (test-only, loads vitest) or a new package, a heavier edge than the dozen lines saved.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PadtEngine } from "@padt/engine";
import { connect, createApiKey, createLogger, createOwner, startGateway } from "@padt/gateway";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/**
 * Starts it on 127.0.0.1 (port 0); `dbLogger` is drizzle's query logger (steps.mjs counts
 * statements with it). `close()` stops the gateway, the database and the engine and removes
 * the temp dir; `scratch` is that dir (a data dir for child processes too).
 */
export async function startInProcessGateway({ bundle, threads, databaseUrl, name, dbLogger }) {
  const scratch = mkdtempSync(join(tmpdir(), `padt-${name}-`));
  const engine = await PadtEngine.load({ bundle, threads });
  const logging = dbLogger ? { logger: dbLogger } : {};
  const handle = await connect(
    databaseUrl ? { url: databaseUrl, ...logging } : { dataDir: join(scratch, "db"), ...logging },
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
  return {
    engine,
    handle,
    gateway,
    scratch,
    async close() {
      await gateway.close();
      await handle.close();
      await engine.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** One API key each for `count` new owners (each client its own per-owner limits). */
export async function ownerKeys(db, count, prefix) {
  const keys = [];
  for (let c = 0; c < count; c++) {
    const owner = await createOwner(db, `${prefix}-${Date.now()}-${c}`);
    keys.push((await createApiKey(db, owner.id)).key);
  }
  return keys;
}

/** A graphql-ws client of the gateway at `url` (http://...), authenticated with `key`. */
export const socketFor = (url, key) =>
  createClient({
    url: `${url.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });

/** A GraphQL-over-HTTP caller: resolves with `data`, throws on `errors`. */
export const httpGql = (url, key) => async (query, variables) => {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
