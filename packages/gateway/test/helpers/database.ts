import { createTestDatabase, type DatabaseKind } from "@padt/testkit";
import {
  type ConnectOptions,
  connect,
  type Database,
  type DatabaseHandle,
  migrate,
} from "../../src/index.js";

/** A migrated database of one kind for one test file, with a count of the queries it ran. */
export interface OpenDatabase {
  handle: DatabaseHandle;
  db: Database;
  /** Queries sent through drizzle since the last reset (counted by its logger). */
  queries: { count: number };
  /** Another handle on the same database (postgres kind only: PGlite has one connection). */
  connectAgain(): Promise<DatabaseHandle>;
  close(): Promise<void>;
}

export async function openDatabase(
  kind: DatabaseKind,
  options: { migrate?: boolean } = {},
): Promise<OpenDatabase> {
  const testDb = await createTestDatabase(kind);
  const queries = { count: 0 };
  const logger = { logQuery: () => void queries.count++ };
  const target: ConnectOptions =
    testDb.kind === "postgres" ? { url: testDb.url } : { pglite: testDb.client };
  const handle = await connect({ ...target, logger });
  if (options.migrate ?? true) await migrate(handle);
  const others: DatabaseHandle[] = [];
  return {
    handle,
    db: handle.db,
    queries,
    async connectAgain() {
      if (testDb.kind !== "postgres") throw new Error("PGlite has a single connection");
      const other = await connect({ url: testDb.url });
      others.push(other);
      return other;
    },
    async close() {
      await Promise.all([handle, ...others].map((h) => h.close()));
      await testDb.drop();
    },
  };
}
