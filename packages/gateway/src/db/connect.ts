import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "drizzle-orm";
import type { DatabaseHandle } from "./database.js";
import { openNodePostgres } from "./drivers/node-postgres.js";
import { openPglite } from "./drivers/pglite.js";

export type ConnectOptions =
  /** A PostgreSQL server: production, and replicas. */
  | { url: string; poolSize?: number; logger?: Logger; prepareStatements?: boolean }
  /** Embedded PGlite: in `dataDir` (persistent), in an instance handed in, or in memory. */
  | { dataDir?: string; pglite?: PGlite; logger?: Logger };

/**
 * Opens the database chosen at start-up: node-postgres when a URL is given, PGlite
 * otherwise. Both give the same `Database`, so nothing past this point knows which.
 */
export async function connect(options: ConnectOptions = {}): Promise<DatabaseHandle> {
  if ("url" in options) {
    return openNodePostgres({
      url: options.url,
      max: options.poolSize,
      logger: options.logger,
      prepareStatements: options.prepareStatements,
    });
  }
  return openPglite({ dataDir: options.dataDir, client: options.pglite, logger: options.logger });
}
