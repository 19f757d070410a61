import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import type { DatabaseHandle } from "../database.js";
import * as schema from "../schema.js";
import { lockDataDir } from "./dir_lock.js";

export interface PgliteOptions {
  /** A data directory (created if absent), or an open instance (tests); neither: in memory. */
  dataDir?: string;
  client?: PGlite;
  logger?: Logger;
}

/**
 * PGlite is one connection, so an advisory lock taken twice on it is simply re-entered.
 * Callers in this process queue here instead; a data directory is locked to one process
 * (dir_lock.ts), so no one else can be waiting.
 */
const queues = new WeakMap<PGlite, Promise<unknown>>();

function serialize<T>(client: PGlite, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(client) ?? Promise.resolve();
  // The stored tail never rejects (see below), so fn runs after the previous caller either way.
  const run = previous.then(fn);
  queues.set(
    client,
    run.catch(() => {}),
  );
  return run;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * PGlite runs PostgreSQL as WebAssembly on this thread and its file system calls are
 * synchronous, so a query resolves as a microtask: a loop of queries (a generation's event
 * writes) never lets the event loop run, and sockets, timers and engine messages all wait
 * until the loop ends. Every statement or transaction handed to PGlite here first yields
 * one event-loop turn.
 */
function yieldingClient(client: PGlite): PGlite {
  return new Proxy(client, {
    get(target, key) {
      if (key === "query" || key === "exec" || key === "transaction") {
        const method = Reflect.get(target, key, target) as (...args: unknown[]) => unknown;
        return async (...args: unknown[]) => {
          await nextTurn();
          return method.apply(target, args);
        };
      }
      // PGlite keeps its state in private fields, which only the instance itself can read.
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The embedded driver: PostgreSQL compiled to WebAssembly, in this process. */
export async function openPglite(options: PgliteOptions = {}): Promise<DatabaseHandle> {
  const owned = !options.client;
  // PGlite creates its own folder but not the ones above it (a fresh --data-dir).
  if (!options.client && options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // Held until close (or exit): PGlite does not lock its directory itself.
  const lock = !options.client && options.dataDir ? lockDataDir(options.dataDir) : undefined;
  let client: PGlite;
  try {
    client = options.client ?? new PGlite(options.dataDir);
    await client.waitReady;
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzle({ client: yieldingClient(client), schema, logger: options.logger });
  return {
    kind: "pglite",
    db,
    withAdvisoryLock: (_key, fn) =>
      serialize(client, () => fn({ db, migrate: (c) => migrate(db, c) })),
    // An instance handed in belongs to the caller, who closes it.
    close: async () => {
      try {
        if (owned && !client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}
