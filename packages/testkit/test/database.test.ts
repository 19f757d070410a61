import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  availableDatabaseKinds,
  createTestDatabase,
  findPostgresBinDir,
  listTestDatabases,
  testServerUrl,
} from "../src/index.js";

describe("createTestDatabase on the PostgreSQL server", () => {
  const server = testServerUrl();
  // CI always provides a server; on a machine without PostgreSQL binaries only PGlite runs.
  const itServer = server ? it : it.skip;

  itServer("creates a database that exists, is writable, and is gone after drop()", async () => {
    const db = await createTestDatabase("postgres");
    if (db.kind !== "postgres") throw new Error("expected a server database");
    expect(await listTestDatabases()).toContain(db.name);

    const client = new pg.Client({ connectionString: db.url });
    // drop() terminates this connection; the server's goodbye arrives as an 'error' event.
    client.on("error", () => {});
    await client.connect();
    const current = await client.query<{ db: string }>("SELECT current_database() AS db");
    expect(current.rows[0]?.db).toBe(db.name);
    await client.query("CREATE TABLE t (id int primary key, v text)");
    await client.query("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    const rows = await client.query<{ n: string }>("SELECT count(*) AS n FROM t");
    expect(rows.rows[0]?.n).toBe("2");
    // Left open on purpose: drop() must still remove the database.
    await db.drop();
    expect(await listTestDatabases()).not.toContain(db.name);
    await client.end().catch(() => {});
  });

  itServer("gives each caller its own database, so test files can run in parallel", async () => {
    const [a, b] = await Promise.all([
      createTestDatabase("postgres"),
      createTestDatabase("postgres"),
    ]);
    try {
      if (a.kind !== "postgres" || b.kind !== "postgres")
        throw new Error("expected server databases");
      expect(a.name).not.toBe(b.name);
      expect(a.url).not.toBe(b.url);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});

describe("createTestDatabase on PGlite", () => {
  it("runs SQL in an isolated in-memory database", async () => {
    const first = await createTestDatabase("pglite");
    const second = await createTestDatabase("pglite");
    if (first.kind !== "pglite" || second.kind !== "pglite") throw new Error("expected PGlite");
    await first.client.exec("CREATE TABLE only_here (x int)");
    const seen = await second.client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'only_here'",
    );
    expect(seen.rows[0]?.n).toBe(0);
    await Promise.all([first.drop(), second.drop()]);
  });
});

describe("environment", () => {
  it("uses a real server whenever local PostgreSQL binaries exist", () => {
    if (findPostgresBinDir() || process.env.CI)
      expect(availableDatabaseKinds()).toContain("postgres");
    expect(availableDatabaseKinds()).toContain("pglite");
  });
});

afterAll(async () => {
  const left = await listTestDatabases();
  expect(left.filter((name) => name.startsWith(`padt_test_${process.pid}_`))).toEqual([]);
});
