/**
 * The scale-out topology as operators run it, as plain processes on one PostgreSQL test
 * database: `padt serve --role gateway` replicas and `padt worker` processes (the CLI's own
 * entry, NODE_ENV removed: cli-process.ts), with short leases so recovery is quick to see.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@padt/testkit";
import { eq, type SQL } from "drizzle-orm";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { messages } from "../../src/db/schema.js";
import { connect, createApiKey, createOwner, type DatabaseHandle } from "../../src/index.js";
import { type CliProcess, RANDOM_BUNDLE, startCli } from "./cli-process.js";
import type { GqlBody } from "./server.js";

/** Polls until `check` holds, for at most `ms` (a bound on waiting, not a speed assertion). */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A messageEvents stream's seqs, its text deltas joined, and its last result. */
export function streamedText(events: GqlBody[]): { seqs: number[]; text: string; last: GqlBody } {
  const items = events.map((e) => e.data?.messageEvents);
  const deltas = items.filter((e) => e?.__typename === "TextDelta");
  return {
    seqs: items.map((e) => e.seq as number),
    text: deltas.map((e) => e.text as string).join(""),
    last: events.at(-1) as GqlBody,
  };
}

/** Short enough that a dead worker's answer is recovered within a couple of seconds. */
export const TEST_LEASE_MS = 1500;
/** How long an answer nobody watches any more goes on (PADT_CANCEL_GRACE_MS). */
export const TEST_GRACE_MS = 1000;

export interface Replica {
  proc: CliProcess;
  url: string;
  gql(query: string, variables?: Record<string, unknown>): Promise<GqlBody>;
  /** Every result of a subscription, once the server completes it; `onNext` sees each as it comes. */
  subscribe(
    query: string,
    variables: Record<string, unknown>,
    onNext?: (body: GqlBody) => void,
  ): Promise<GqlBody[]>;
  /** A subscription the test ends itself (the client leaves, as a closed browser tab does). */
  watch(query: string, variables: Record<string, unknown>): { close(): Promise<void> };
}

export interface Topology {
  url: string;
  key: string;
  gateways: Replica[];
  workers: CliProcess[];
  startGateway(): Promise<Replica>;
  /** `args`: more flags for `padt worker` (e.g. --metrics-port 0). */
  startWorker(args?: string[]): Promise<CliProcess>;
  /** A handle on the shared database, for the test's own reads. */
  db(): Promise<DatabaseHandle>;
  /** The rows of one raw SQL query on the shared database (graphile's tables, say). */
  rows<T>(query: SQL): Promise<T[]>;
  /** The ids of the messages stored in a session (a refused send must leave none). */
  storedMessages(sessionId: string): Promise<string[]>;
  /** Which worker claimed the job of `messageId` (each logs "job claimed" with the message id). */
  claimedBy(messageId: string): Promise<CliProcess>;
  close(): Promise<void>;
}

const env = {
  PADT_LEASE_MS: String(TEST_LEASE_MS),
  PADT_CANCEL_GRACE_MS: String(TEST_GRACE_MS),
  PADT_DRAIN_MS: "2000",
  // Long answers (LONG_ANSWER) outlast a gateway's start-up and a grace period comfortably.
  PADT_MAX_NEW_TOKENS: "8000",
  // Each test runs at most two answers at once; the admission test asks for a third.
  PADT_MAX_GENERATIONS_PER_OWNER: "2",
};

export async function startTopology(options: {
  gateways: number;
  workers: number;
  /** Variables that replace the topology's defaults (a longer lease, a shorter drain). */
  env?: Record<string, string>;
}): Promise<Topology> {
  const vars = { ...env, ...options.env };
  const database = await createTestDatabase("postgres");
  if (database.kind !== "postgres") throw new Error("the topology needs PostgreSQL");
  const url = database.url;
  const dataDir = mkdtempSync(join(tmpdir(), "padt-topology-"));
  const processes: CliProcess[] = [];
  const handle = await connect({ url });
  let key = "";

  const topology: Topology = {
    url,
    key,
    gateways: [],
    workers: [],
    async startGateway() {
      const proc = startCli(
        [
          "serve",
          "--role",
          "gateway",
          ...["--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
          ...["--database-url", url, "--model", RANDOM_BUNDLE],
        ],
        vars,
      );
      processes.push(proc);
      const at = (await proc.waitFor(/gateway on (http:\/\/\S+)\/graphql/))[1] as string;
      const replica = replicaAt(proc, at, () => topology.key);
      topology.gateways.push(replica);
      return replica;
    },
    async startWorker(args = []) {
      const proc = startCli(
        ["worker", "--database-url", url, "--model", RANDOM_BUNDLE, "--threads", "1", ...args],
        vars,
      );
      processes.push(proc);
      await proc.waitFor(/PaDT Studio worker for model/);
      topology.workers.push(proc);
      return proc;
    },
    db: () => connect({ url }),
    async rows<T>(query: SQL) {
      // Both drivers answer raw SQL with `{ rows }`.
      return ((await handle.db.execute(query)) as unknown as { rows: T[] }).rows;
    },
    claimedBy(messageId) {
      const line = new RegExp(`"messageId":"${messageId}","msg":"job claimed"`);
      return Promise.any(topology.workers.map((w) => w.waitFor(line).then(() => w)));
    },
    async storedMessages(sessionId) {
      const rows = await handle.db
        .select({ id: messages.id })
        .from(messages)
        .where(eq(messages.sessionId, sessionId));
      return rows.map((r) => r.id);
    },
    async close() {
      for (const p of processes) {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      }
      await Promise.all(processes.map((p) => p.exited));
      await handle.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    // The first gateway migrates; the rest start together.
    await topology.startGateway();
    const owner = await createOwner(handle.db, "topology");
    key = (await createApiKey(handle.db, owner.id)).key;
    topology.key = key;
    await Promise.all([
      ...Array.from({ length: options.gateways - 1 }, () => topology.startGateway()),
      ...Array.from({ length: options.workers }, () => topology.startWorker()),
    ]);
  } catch (error) {
    await topology.close();
    throw error;
  }
  return topology;
}

function replicaAt(proc: CliProcess, url: string, key: () => string): Replica {
  const client = () =>
    createClient({
      url: `${url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key()}` },
      retryAttempts: 0,
    });
  return {
    proc,
    url,
    async gql(query, variables = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key()}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlBody;
    },
    watch(query, variables) {
      const ws = client();
      const stop = ws.subscribe({ query, variables }, { next() {}, error() {}, complete() {} });
      return {
        async close() {
          stop();
          await ws.dispose();
        },
      };
    },
    subscribe(query, variables, onNext) {
      return new Promise<GqlBody[]>((resolve, reject) => {
        const ws = client();
        const out: GqlBody[] = [];
        ws.subscribe(
          { query, variables },
          {
            next: (r) => {
              out.push(r as GqlBody);
              onNext?.(r as GqlBody);
            },
            error: (e) => {
              void ws.dispose();
              reject(e);
            },
            complete: () => {
              void ws.dispose();
              resolve(out);
            },
          },
        );
      });
    },
  };
}
