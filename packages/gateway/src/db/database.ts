import type { MigrationConfig } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

export type Schema = typeof schema;

/**
 * The one database type the gateway uses, whichever driver is underneath. A transaction
 * (`db.transaction(tx => ...)`) is a `Database` too, so repositories take either and a
 * caller can compose several of them into one transaction.
 */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export type DriverKind = "postgres" | "pglite";

/** One connection, held under an advisory lock. */
export interface LockedConnection {
  /** Every query through this goes over the locked connection. */
  readonly db: Database;
  /** drizzle's migrator for this driver, run on the locked connection. */
  migrate(config: MigrationConfig): Promise<void>;
}

/** An open database: the drizzle handle plus what only the driver knows how to do. */
export interface DatabaseHandle {
  readonly kind: DriverKind;
  readonly db: Database;
  /**
   * Runs `fn` while holding the session-level advisory lock `key` on one connection.
   * Every process on the same database waits for it; used so that replicas starting
   * together do not race on migrations.
   */
  withAdvisoryLock<T>(key: bigint, fn: (conn: LockedConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
