import { ErrorCode } from "@padt/protocol";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSession,
  deleteSession,
  getSession,
  listSessions,
  renameSession,
} from "../src/db/repos/sessions.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("owners and sessions on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  it("creates, renames and deletes sessions of their owner only", async () => {
    const a = await newOwner(t.db);
    const b = await newOwner(t.db);
    const session = await createSession(t.db, a.id, { title: "first" });
    expect(await getSession(t.db, b.id, session.id)).toBeUndefined();
    await expect(renameSession(t.db, b.id, session.id, "stolen")).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    expect(await deleteSession(t.db, b.id, session.id)).toBe(false);
    expect((await listSessions(t.db, b.id, {})).edges).toEqual([]);

    const renamed = await renameSession(t.db, a.id, session.id, "second");
    expect(renamed.title).toBe("second");
    expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(session.updatedAt.getTime());
    expect(await deleteSession(t.db, a.id, session.id)).toBe(true);
    expect(await getSession(t.db, a.id, session.id)).toBeUndefined();
    expect(await getSession(t.db, a.id, "not-a-uuid")).toBeUndefined();
  });

  it("pages sessions newest first, forward and backward, unmoved by inserts", async () => {
    const owner = await newOwner(t.db);
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await createSession(t.db, owner.id, { title: `s${i}` }));
    const newestFirst = made.map((s) => s.id).reverse();

    const page1 = await listSessions(t.db, owner.id, { first: 3 });
    expect(page1.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 3));
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    // New sessions arrive at the head; the next page continues where the client was.
    await createSession(t.db, owner.id, { title: "late" });
    const page2 = await listSessions(t.db, owner.id, { first: 3, after: page1.pageInfo.endCursor });
    expect(page2.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(3, 6));
    const page3 = await listSessions(t.db, owner.id, { first: 3, after: page2.pageInfo.endCursor });
    expect(page3.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(6));
    expect(page3.pageInfo.hasNextPage).toBe(false);

    const back = await listSessions(t.db, owner.id, {
      last: 2,
      before: page3.pageInfo.startCursor,
    });
    expect(back.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(4, 6));
    expect(back.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const start = await listSessions(t.db, owner.id, {
      last: 5,
      before: page2.pageInfo.startCursor,
    });
    expect(start.edges).toHaveLength(4);
    expect(start.pageInfo.hasPreviousPage).toBe(false);
  });

  it("rejects cursors and page sizes it did not make", async () => {
    const owner = await newOwner(t.db);
    await expect(listSessions(t.db, owner.id, { after: "bm9wZQ" })).rejects.toMatchObject({
      code: ErrorCode.INVALID_CURSOR,
    });
    await expect(listSessions(t.db, owner.id, { first: 1000 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_PAGE_ARGS,
    });
    await expect(listSessions(t.db, owner.id, { first: 1, last: 1 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_PAGE_ARGS,
    });
  });
});
