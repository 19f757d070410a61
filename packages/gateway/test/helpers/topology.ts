/**
 * The scale-out topology as operators run it, as plain processes on one PostgreSQL test
 * database: `padt serve --role gateway` replicas and `padt worker` processes (the CLI's own
 * entry, NODE_ENV removed: cli-process.ts), with short leases so recovery is quick to see.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@padt/testkit";
import { eq, type SQL, sql } from "drizzle-orm";
import { createClient } from "graphql-ws";
import { expect } from "vitest";
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

/** A message's stream: its deltas' text and how it ended (the stored message included). */
export const EVENTS = `subscription($id: ID!, $after: Int) { messageEvents(messageId: $id, afterSeq: $after) {
  __typename
  ... on TextDelta { seq text }
  ... on MessageCompleted { seq message { status text } }
  ... on MessageCancelled { seq message { status text } }
  ... on MessageFailed { seq error { code } }
} }`;
/** Tokens of an answer that must still be running a few seconds on (within the 8192 context). */
export const LONG_ANSWER = 7000;
const SEND = `mutation($s: ID!, $n: Int!) { sendMessage(input: { sessionId: $s, parts: [{ text: "hi" }], options: { maxNewTokens: $n } }) { assistantMessage { id } } }`;
const MESSAGE = `query($id: ID!) { message(id: $id) { status text lastSeq error { code } } }`;

export interface StoredAnswer {
  status: string;
  text: string;
  lastSeq: number;
  error: { code: string } | null;
}

export async function newSession(gateway: Replica): Promise<string> {
  const body = await gateway.gql(`mutation { createSession(input: {}) { id } }`);
  expect(body.errors).toBeUndefined();
  return body.data.createSession.id as string;
}

/** The raw answer to sendMessage("hi") in `sessionId` (refusals are read from its errors). */
export function sendIn(
  gateway: Replica,
  sessionId: string,
  maxNewTokens: number,
): Promise<GqlBody> {
  return gateway.gql(SEND, { s: sessionId, n: maxNewTokens });
}

/** Sends "hi" in a new session through `gateway`: the id of the answer being generated. */
export async function send(gateway: Replica, maxNewTokens: number): Promise<string> {
  const sent = await sendIn(gateway, await newSession(gateway), maxNewTokens);
  expect(sent.errors).toBeUndefined();
  return sent.data.sendMessage.assistantMessage.id as string;
}

/** The stored message `id`, read through `gateway`. */
export async function message(gateway: Replica, id: string): Promise<StoredAnswer> {
  const body = await gateway.gql(MESSAGE, { id });
  expect(body.errors).toBeUndefined();
  return body.data.message as StoredAnswer;
}

/** cancelGeneration through `gateway`: the status the answer ended with (no GraphQL errors). */
export async function cancel(gateway: Replica, id: string): Promise<string> {
  const body = await gateway.gql(
    `mutation($id: ID!) { cancelGeneration(messageId: $id) { status } }`,
    { id },
  );
  expect(body.errors).toBeUndefined();
  return body.data.cancelGeneration.status as string;
}

/** The message once it has stored a couple of events (its worker is generating), or after 30 s. */
export function untilStreaming(gateway: Replica, id: string): Promise<StoredAnswer> {
  return eventually(
    () => message(gateway, id),
    (m) => m.lastSeq >= 2,
    30_000,
  );
}

/** The message once it is COMPLETE, or after 30 s. */
export function untilComplete(gateway: Replica, id: string): Promise<StoredAnswer> {
  return eventually(
    () => message(gateway, id),
    (m) => m.status === "COMPLETE",
    30_000,
  );
}

/** Seqs 1, 2, 3, ...: in order, with no gap. */
export function expectGapFree(seqs: number[]): void {
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
}

/**
 * An answer whose worker went away (killed, or stopping past its drain window) as clients see
 * it: INTERRUPTED with code INTERRUPTED, its watcher's stream gap-free and closed by a
 * MessageFailed INTERRUPTED, the stored text the streamed one, its graphile job gone.
 * Returns the streamed text.
 */
export async function expectInterrupted(
  topology: Topology,
  id: string,
  ended: StoredAnswer,
  watched: Promise<GqlBody[]>,
): Promise<string> {
  expect(ended).toMatchObject({ status: "INTERRUPTED", error: { code: "INTERRUPTED" } });
  const { seqs, text, last } = streamedText(await watched);
  expectGapFree(seqs);
  expect(last.data?.messageEvents).toMatchObject({
    __typename: "MessageFailed",
    error: { code: "INTERRUPTED" },
  });
  expect(ended.text).toBe(text);
  // Graphile alone would keep a dead worker's job locked for 4 hours.
  expect(await topology.rows(sql`SELECT key FROM graphile_worker.jobs WHERE key = ${id}`)).toEqual(
    [],
  );
  return text;
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
