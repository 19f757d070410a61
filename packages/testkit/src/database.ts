import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export type DatabaseKind = "postgres" | "pglite";

/** A database that exists for one test file and is dropped afterwards. */
export type TestDatabase =
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly name: string;
      drop(): Promise<void>;
    }
  | { readonly kind: "pglite"; readonly client: PGlite; drop(): Promise<void> };

/** The PostgreSQL server that tests use: `TEST_DATABASE_URL` (set by CI or by the global setup). */
export function testServerUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || undefined;
}

/** The kinds available here: a real server when one is configured, and always PGlite. */
export function availableDatabaseKinds(): DatabaseKind[] {
  return testServerUrl() ? ["postgres", "pglite"] : ["pglite"];
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh database: on the real server by default (a uniquely named database,
 * so test files run in parallel), or an in-memory PGlite when no server is configured
 * or `kind` asks for it.
 */
export async function createTestDatabase(kind?: DatabaseKind): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const chosen = kind ?? (serverUrl ? "postgres" : "pglite");
  if (chosen === "pglite") {
    const client = new PGlite();
    await client.waitReady;
    return { kind: "pglite", client, drop: () => client.close() };
  }
  if (!serverUrl) {
    throw new Error(
      "createTestDatabase('postgres') needs TEST_DATABASE_URL or local PostgreSQL binaries",
    );
  }
  const name = `padt_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    kind: "postgres",
    name,
    url: withDatabase(serverUrl, name),
    // FORCE ends connections a test left open (PostgreSQL 13+), so nothing is left behind.
    drop: () =>
      withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => {},
      ),
  };
}

/** Names of the test databases currently on the server (to check that nothing is left behind). */
export async function listTestDatabases(): Promise<string[]> {
  const serverUrl = testServerUrl();
  if (!serverUrl) return [];
  return withAdmin(serverUrl, async (c) => {
    const r = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'padt\\_test\\_%' ORDER BY datname",
    );
    return r.rows.map((row) => row.datname);
  });
}
