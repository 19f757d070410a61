import { availableDatabaseKinds, createTestDatabase } from "@padt/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_NAMED_STATEMENTS, StatementNames } from "../src/db/drivers/named_statements.js";
import { findApiKey } from "../src/db/repos/api_keys.js";
import { appendEvents, listEvents } from "../src/db/repos/events.js";
import { getMessage } from "../src/db/repos/messages.js";
import { connect, createApiKey, migrate } from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newStreamingAnswer } from "./helpers/fixtures.js";

describe("statement names", () => {
  it("gives one name per text, the same each time, and none past the cap", () => {
    const names = new StatementNames(2);
    const a = names.nameFor("select $1");
    expect(a).toMatch(/^padt_/);
    expect(names.nameFor("select $1")).toBe(a);
    const b = names.nameFor("select $1, $2");
    expect(b).not.toBe(a);
    expect(names.nameFor("select $1, $2, $3")).toBeUndefined();
    expect(names.size).toBe(2);
    expect(MAX_NAMED_STATEMENTS).toBeGreaterThan(100);
  });
});

describe.each(availableDatabaseKinds())("prepared hot queries on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  it("builds listEvents, getMessage and findApiKey once per handle", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    const { key } = await createApiKey(t.db, owner.id);
    await listEvents(t.db, owner.id, id);
    await getMessage(t.db, owner.id, id);
    await findApiKey(t.db, key);
    const select = vi.spyOn(t.db, "select");
    try {
      await appendEvents(t.db, owner.id, id, [{ type: "text_delta", payload: { text: "x" } }]);
      expect((await listEvents(t.db, owner.id, id)).map((e) => e.seq)).toEqual([1]);
      expect((await getMessage(t.db, owner.id, id))?.lastSeq).toBe(1);
      expect((await findApiKey(t.db, key))?.owner.id).toBe(owner.id);
      // Another owner's message and an unknown key answer nothing, as before.
      const other = await newOwner(t.db);
      expect(await listEvents(t.db, other.id, id)).toEqual([]);
      expect(await getMessage(t.db, other.id, id)).toBeUndefined();
      expect(await findApiKey(t.db, `${key}x`)).toBeUndefined();
      expect(select).not.toHaveBeenCalled();
    } finally {
      select.mockRestore();
    }
  });

  it("runs inside a transaction on the transaction's connection (sees its own writes)", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    await listEvents(t.db, owner.id, id); // built on the handle first
    let inside: number[] = [];
    let lastSeq: number | undefined;
    await expect(
      t.db.transaction(async (tx) => {
        await appendEvents(tx, owner.id, id, [{ type: "text_delta", payload: { text: "x" } }]);
        inside = (await listEvents(tx, owner.id, id)).map((e) => e.seq);
        lastSeq = (await getMessage(tx, owner.id, id))?.lastSeq;
        tx.rollback();
      }),
    ).rejects.toThrow(/rollback/i);
    expect(inside).toEqual([1]);
    expect(lastSeq).toBe(1);
    // Rolled back: nothing of it outside.
    expect(await listEvents(t.db, owner.id, id)).toEqual([]);
  });

  it.runIf(kind === "postgres")(
    "sends statements with parameters as named prepared statements on PostgreSQL",
    async () => {
      const { owner, id } = await newStreamingAnswer(t.db);
      // One transaction: one connection, whose prepared statements the server lists.
      const names = await t.db.transaction(async (tx) => {
        await getMessage(tx, owner.id, id);
        await tx.execute(sql`select ${id}::uuid as id`);
        const rows = (await tx.execute(
          sql.raw("select name, statement from pg_prepared_statements"),
        )) as unknown as { rows: { name: string; statement: string }[] };
        return rows.rows;
      });
      expect(names.find((r) => r.name === "padt_q_get_message")?.statement).toMatch(
        /from "messages"/,
      );
      expect(names.find((r) => /select \$1::uuid as id/.test(r.statement))?.name).toMatch(
        /^padt_\d+$/,
      );
    },
  );

  it.runIf(kind === "postgres")(
    "names no statement behind pgbouncer (?pgbouncer=true), drizzle's prepared ones included",
    async () => {
      const other = await createTestDatabase("postgres");
      if (other.kind !== "postgres") throw new Error("expected a PostgreSQL test database");
      const url = `${other.url}${other.url.includes("?") ? "&" : "?"}pgbouncer=true`;
      const handle = await connect({ url });
      try {
        await migrate(handle);
        const { owner, id } = await newStreamingAnswer(handle.db);
        const names = await handle.db.transaction(async (tx) => {
          expect((await getMessage(tx, owner.id, id))?.id).toBe(id);
          expect((await listEvents(tx, owner.id, id)).length).toBe(0);
          await tx.execute(sql`select ${id}::uuid as id`);
          const rows = (await tx.execute(
            sql.raw("select name from pg_prepared_statements"),
          )) as unknown as { rows: { name: string }[] };
          return rows.rows.map((r) => r.name);
        });
        expect(names).toEqual([]);
      } finally {
        await handle.close();
        await other.drop();
      }
    },
  );
});
