import { ErrorCode } from "@padt/protocol";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError } from "../errors.js";
import { isUuid } from "../ids.js";
import { type Page, type PageArgs, paginate } from "../pagination.js";
import { prepared } from "../prepared.js";
import { type Message, type MessageStatus, messages } from "../schema.js";

/** Statuses a generation can still leave; every other status is final. */
export const UNFINISHED_STATUSES = [
  "pending",
  "streaming",
] as const satisfies readonly MessageStatus[];

export function isFinished(status: MessageStatus): boolean {
  return !(UNFINISHED_STATUSES as readonly MessageStatus[]).includes(status);
}

export async function getMessage(
  db: Database,
  ownerId: string,
  id: string,
): Promise<Message | undefined> {
  if (!isUuid(id)) return undefined;
  const [message] = await prepared(db, "get_message", (on, name) =>
    on
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.id, sql.placeholder("id")),
          eq(messages.ownerId, sql.placeholder("ownerId")),
        ),
      )
      .prepare(name),
  ).execute({ id, ownerId });
  return message;
}

export async function messagesByIds(
  db: Database,
  ownerId: string,
  ids: readonly string[],
): Promise<Message[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.ownerId, ownerId), inArray(messages.id, valid)));
}

/** The assistant message answering a user message (the first, should there be several). */
export async function findAnswer(
  db: Database,
  ownerId: string,
  userMessageId: string,
): Promise<Message | undefined> {
  const [answer] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.replyToId, userMessageId), eq(messages.ownerId, ownerId)))
    .orderBy(asc(messages.createdAt), asc(messages.id))
    .limit(1);
  return answer;
}

/** A session's history, oldest first; chat views usually ask for `last: n` and page back. */
export async function listMessages(
  db: Database,
  ownerId: string,
  sessionId: string,
  args: PageArgs,
): Promise<Page<Message>> {
  return paginate(args, {
    order: "asc",
    createdAt: messages.createdAt,
    id: messages.id,
    fetch: (where, orderBy, limit) =>
      isUuid(sessionId)
        ? db
            .select()
            .from(messages)
            .where(and(eq(messages.sessionId, sessionId), eq(messages.ownerId, ownerId), ...where))
            .orderBy(...orderBy)
            .limit(limit)
        : Promise.resolve([]),
  });
}

/** Throws NOT_FOUND for an id that cannot name a message, before it reaches SQL. */
export function assertMessageId(id: string): void {
  if (!isUuid(id)) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
}

/**
 * Explains why a guarded update matched no row: no such message for this owner, or a
 * message whose status does not allow the change. Only runs on that failure path.
 */
export async function refuseChange(
  db: Database,
  ownerId: string,
  id: string,
  change: string,
): Promise<never> {
  const message = await getMessage(db, ownerId, id);
  if (!message) throw new DbError(ErrorCode.NOT_FOUND, "Message not found");
  throw new DbError(
    ErrorCode.INVALID_STATE,
    `Cannot ${change} a message that is ${message.status}`,
  );
}
