import { readFileSync } from "node:fs";
import { join } from "node:path";
import { availableDatabaseKinds } from "@padt/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, defaultMigrationsFolder, migrate } from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";

const journal = JSON.parse(
  readFileSync(join(defaultMigrationsFolder, "meta", "_journal.json"), "utf8"),
) as {
  entries: unknown[];
};

async function appliedCount(db: Database): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(sql`drizzle.__drizzle_migrations`);
  return rows[0]!.n;
}

async function tableNames(db: Database): Promise<string[]> {
  const rows = await db
    .select({ name: sql<string>`table_name` })
    .from(sql`information_schema.tables`)
    .where(sql`table_schema = 'public'`)
    .orderBy(sql`table_name`);
  return rows.map((r) => r.name);
}

describe.each(availableDatabaseKinds())("migrations on %s", (kind) => {
  // One database for the file: PGlite takes seconds to start.
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind, { migrate: false });
  });
  afterAll(() => t?.close());

  it("apply each migration once when replicas start together", async () => {
    // On a server, separate pools stand in for separate replicas; PGlite is one connection
    // that callers in this process share.
    const handles =
      kind === "postgres"
        ? [t.handle, await t.connectAgain(), await t.connectAgain()]
        : [t.handle, t.handle, t.handle];
    await Promise.all(handles.map((h) => migrate(h)));
    expect(await tableNames(t.db)).toEqual([
      "api_keys",
      "images",
      "message_events",
      "message_parts",
      "messages",
      "owners",
      "sessions",
      "workers",
    ]);
    expect(await appliedCount(t.db)).toBe(journal.entries.length);
  });

  it("do nothing when run again", async () => {
    await migrate(t.handle);
    expect(await appliedCount(t.db)).toBe(journal.entries.length);
  });
});
