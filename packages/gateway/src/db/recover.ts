import { ErrorCode } from "@padt/protocol";
import { and, asc, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { partsFromEvents } from "../conversation/event_parts.js";
import type { Database } from "./database.js";
import { UNFINISHED_STATUSES } from "./repos/messages.js";
import { insertParts } from "./repos/parts.js";
import { messageEvents, messages } from "./schema.js";

/**
 * Marks generations that a previous process left pending or streaming (it crashed or was
 * killed) as interrupted, each with a closing `interrupted` event so that subscribers
 * waiting on it are told, and with the parts its stored events spell (the text and visual
 * references it had streamed), so the partial answer stays readable. Run at start-up, after
 * migrate and before taking new work. Returns the ids of the messages it marked.
 *
 * A message whose lease is still in the future is left alone: another replica is running
 * it. Messages without a lease are recovered when `unleased` (the default: an embedded
 * database is this process's alone, so nothing unfinished there is anyone else's); on a
 * shared PostgreSQL they are left alone, since an unleased pending message is one waiting in
 * the job queue for a worker. One transaction, so a crash during recovery leaves everything
 * as it was.
 */
export async function recoverInterrupted(
  db: Database,
  options: { unleased?: boolean } = {},
): Promise<string[]> {
  const expired = lt(messages.leaseUntil, sql`now()`);
  return db.transaction(async (tx) => {
    const marked = await tx
      .update(messages)
      .set({
        status: "interrupted",
        errorCode: ErrorCode.INTERRUPTED,
        errorMessage: "The server stopped while this answer was being generated",
        completedAt: sql`now()`,
        leaseUntil: null,
        lastSeq: sql`${messages.lastSeq} + 1`,
      })
      .where(
        and(
          inArray(messages.status, UNFINISHED_STATUSES),
          (options.unleased ?? true) ? or(isNull(messages.leaseUntil), expired) : expired,
        ),
      )
      .returning({ id: messages.id, ownerId: messages.ownerId, seq: messages.lastSeq });
    if (marked.length > 0) {
      const events = await tx
        .select({
          messageId: messageEvents.messageId,
          type: messageEvents.type,
          payload: messageEvents.payload,
        })
        .from(messageEvents)
        .where(
          inArray(
            messageEvents.messageId,
            marked.map((m) => m.id),
          ),
        )
        .orderBy(asc(messageEvents.messageId), asc(messageEvents.seq));
      for (const m of marked) {
        const parts = partsFromEvents(events.filter((e) => e.messageId === m.id));
        await insertParts(tx, m.ownerId, m.id, parts);
      }
      await tx.insert(messageEvents).values(
        marked.map((m) => ({
          messageId: m.id,
          seq: m.seq,
          type: "interrupted" as const,
          payload: {},
        })),
      );
    }
    return marked.map((m) => m.id);
  });
}
