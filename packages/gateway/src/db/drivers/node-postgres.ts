import type { Logger } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { DatabaseHandle } from "../database.js";
import * as schema from "../schema.js";
import { behindPgbouncer, StatementNames, statementClient } from "./named_statements.js";

export interface NodePostgresOptions {
  url: string;
  /** Pool size; node-postgres defaults to 10. */
  max?: number;
  logger?: Logger;
  /**
   * Named prepared statements (named_statements.ts); default true, unless the URL says
   * `pgbouncer=true`. Off for a connection pooler that shares server connections between
   * clients (pgbouncer in transaction mode before 1.21).
   */
  prepareStatements?: boolean;
}

/** The production driver: a node-postgres pool on a PostgreSQL server. */
export function openNodePostgres(options: NodePostgresOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    Client: statementClient(
      (options.prepareStatements ?? !behindPgbouncer(options.url))
        ? new StatementNames()
        : undefined,
    ),
  });
  // An idle client whose server goes away emits 'error'; unhandled, it would end the process.
  pool.on("error", () => {});
  const config = { schema, logger: options.logger };
  const db = drizzle({ client: pool, ...config });
  return {
    kind: "postgres",
    db,
    async withAdvisoryLock(key, fn) {
      // A session-level lock belongs to one connection: hold one client for the whole run.
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock($1)", [key.toString()]);
        try {
          const locked = drizzle({ client, ...config });
          return await fn({ db: locked, migrate: (c) => migrate(locked, c) });
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [key.toString()]);
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
