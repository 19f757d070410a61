import { ErrorCode } from "@padt/protocol";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError } from "../errors.js";
import { isUuid } from "../ids.js";
import { type Page, type PageArgs, paginate } from "../pagination.js";
import { type Session, sessions } from "../schema.js";

/** This owner's session `id`; a malformed id matches nothing rather than erroring. */
const mine = (ownerId: string, id: string) =>
  isUuid(id) ? and(eq(sessions.id, id), eq(sessions.ownerId, ownerId)) : sql`false`;

export async function createSession(
  db: Database,
  ownerId: string,
  input: { title?: string | null } = {},
): Promise<Session> {
  const [session] = await db
    .insert(sessions)
    .values({ ownerId, title: input.title ?? null })
    .returning();
  return session!;
}

export async function getSession(
  db: Database,
  ownerId: string,
  id: string,
): Promise<Session | undefined> {
  const [session] = await db.select().from(sessions).where(mine(ownerId, id));
  return session;
}

export async function sessionsByIds(
  db: Database,
  ownerId: string,
  ids: readonly string[],
): Promise<Session[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.ownerId, ownerId), inArray(sessions.id, valid)));
}

export async function renameSession(
  db: Database,
  ownerId: string,
  id: string,
  title: string | null,
): Promise<Session> {
  const [session] = await db
    .update(sessions)
    .set({ title, updatedAt: new Date() })
    .where(mine(ownerId, id))
    .returning();
  if (!session) throw new DbError(ErrorCode.NOT_FOUND, "Session not found");
  return session;
}

/**
 * Deletes the session with its messages, parts and events (cascade). Returns false when
 * there was no such session for this owner. A generation still running in the session
 * should be cancelled first: its next event append then finds no message (NOT_FOUND).
 */
export async function deleteSession(db: Database, ownerId: string, id: string): Promise<boolean> {
  const rows = await db.delete(sessions).where(mine(ownerId, id)).returning({ id: sessions.id });
  return rows.length > 0;
}

/** The owner's sessions, newest first. */
export async function listSessions(
  db: Database,
  ownerId: string,
  args: PageArgs,
): Promise<Page<Session>> {
  return paginate(args, {
    order: "desc",
    createdAt: sessions.createdAt,
    id: sessions.id,
    fetch: (where, orderBy, limit) =>
      db
        .select()
        .from(sessions)
        .where(and(eq(sessions.ownerId, ownerId), ...where))
        .orderBy(...orderBy)
        .limit(limit),
  });
}
