import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { isUuid } from "../ids.js";
import { type MessageEvent, type MessageEventType, messageEvents, messages } from "../schema.js";
import { assertMessageId, refuseChange, UNFINISHED_STATUSES } from "./messages.js";

export interface EventInput {
  type: MessageEventType;
  payload: unknown;
}

/** Stores an event under a seq already reserved on the message (by a last_seq bump). */
export async function insertEvent(
  db: Database,
  messageId: string,
  seq: number,
  event: EventInput,
): Promise<MessageEvent> {
  const [row] = await db
    .insert(messageEvents)
    .values({ messageId, seq, type: event.type, payload: event.payload ?? {} })
    .returning();
  return row!;
}

/**
 * Appends an event to a running generation under the next seq. Bumping `last_seq` locks
 * the message row until commit, so concurrent appenders queue and seqs have no gaps; a
 * rolled-back append gives its number back. Refused (INVALID_STATE) once the message is
 * finished: a cancelled generation cannot keep streaming into it.
 */
export async function appendEvent(
  db: Database,
  ownerId: string,
  messageId: string,
  event: EventInput,
): Promise<MessageEvent> {
  assertMessageId(messageId);
  return db.transaction(async (tx) => {
    const [bumped] = await tx
      .update(messages)
      .set({ lastSeq: sql`${messages.lastSeq} + 1` })
      .where(
        and(
          eq(messages.id, messageId),
          eq(messages.ownerId, ownerId),
          inArray(messages.status, UNFINISHED_STATUSES),
        ),
      )
      .returning({ seq: messages.lastSeq });
    if (!bumped) return refuseChange(tx, ownerId, messageId, "stream into");
    return insertEvent(tx, messageId, bumped.seq, event);
  });
}

/**
 * Events after `afterSeq`, in order: the replay a reconnecting subscriber needs. Empty
 * for another owner's message (the join on messages checks the owner).
 */
export async function listEvents(
  db: Database,
  ownerId: string,
  messageId: string,
  options: { afterSeq?: number; limit?: number } = {},
): Promise<MessageEvent[]> {
  if (!isUuid(messageId)) return [];
  const rows = await db
    .select({ event: messageEvents })
    .from(messageEvents)
    .innerJoin(messages, eq(messages.id, messageEvents.messageId))
    .where(
      and(
        eq(messageEvents.messageId, messageId),
        eq(messages.ownerId, ownerId),
        gt(messageEvents.seq, options.afterSeq ?? 0),
      ),
    )
    .orderBy(asc(messageEvents.seq))
    .limit(options.limit ?? 1000);
  return rows.map((r) => r.event);
}
