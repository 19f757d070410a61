import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { partsFromEvents } from "../../conversation/event_parts.js";
import type { Database } from "../database.js";
import { messageEvents, messages } from "../schema.js";
import { assertMessageId, UNFINISHED_STATUSES } from "./messages.js";
import { finishMessage } from "./transitions.js";

/** Ids of a session's answers that are still pending or streaming. */
export async function unfinishedInSession(
  db: Database,
  ownerId: string,
  sessionId: string,
): Promise<string[]> {
  const rows = await db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.ownerId, ownerId),
        eq(messages.sessionId, sessionId),
        inArray(messages.status, UNFINISHED_STATUSES),
      ),
    );
  return rows.map((r) => r.id);
}

/**
 * Ends an answer CANCELLED from outside the process generating it, with the parts its stored
 * events spell (the text and references streamed so far). The message row is locked first,
 * so no event is appended between reading the events and finishing; afterwards its generator
 * is refused further events (appendEvent) and stops. INVALID_STATE if already final.
 */
export async function cancelFromEvents(db: Database, ownerId: string, id: string) {
  assertMessageId(id);
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT 1 FROM ${messages} WHERE ${messages.id} = ${id} AND ${messages.ownerId} = ${ownerId} FOR UPDATE`,
    );
    const events = await tx
      .select({ type: messageEvents.type, payload: messageEvents.payload })
      .from(messageEvents)
      .where(eq(messageEvents.messageId, id))
      .orderBy(asc(messageEvents.seq));
    return finishMessage(tx, ownerId, id, { status: "cancelled", parts: partsFromEvents(events) });
  });
}
