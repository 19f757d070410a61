import { is } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import type { Database } from "./database.js";

const built = new WeakMap<Database, Map<string, unknown>>();

/**
 * A hot query (one per request or per stream wake-up), built once per database handle and
 * run with placeholders: drizzle's query building cost about as much CPU as the round trip
 * itself (0.47 -> 0.19 ms per listEvents on loopback PostgreSQL, built and unnamed vs prepared
 * and named). `build` prepares the query under the name it is given and takes all its inputs
 * as `sql.placeholder`s. A transaction runs on its own connection, so there the
 * query is built for that transaction each time (same text and name: the server still
 * reuses its plan on a connection that prepared it before).
 */
export function prepared<Q>(
  db: Database,
  name: string,
  build: (db: Database, name: string) => Q,
): Q {
  const statement = `padt_q_${name}`;
  if (is(db, PgTransaction)) return build(db, statement);
  let queries = built.get(db);
  if (!queries) {
    queries = new Map();
    built.set(db, queries);
  }
  let query = queries.get(name) as Q | undefined;
  if (query === undefined) {
    query = build(db, statement);
    queries.set(name, query);
  }
  return query;
}
