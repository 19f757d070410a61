import { ErrorCode } from "@padt/protocol";
import { and, asc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { partsFromEvents } from "../conversation/event_parts.js";
import type { Database } from "./database.js";
import { UNFINISHED_STATUSES } from "./repos/messages.js";
import { insertParts } from "./repos/parts.js";
import { messageEvents, messages } from "./schema.js";

export interface RecoverOptions {
  /** Unleased unfinished messages are recovered (default: the embedded database). */
  unleased?: boolean;
  /**
   * The lease timeout, on a shared database (`unleased: false`): a STREAMING message with no
   * lease, created more than this many ms ago, counts as expired. Only a version from before
   * leases were set (d50d8b3, issue 18: `markStreaming` leased nothing) leaves such a row, and
   * nothing renews it, so without this it would stay STREAMING for ever.
   */
  leaseMs?: number;
  /**
   * Only these messages, whatever their lease: the process holding them hands them back
   * (a worker's shutdown, past its drain window), so they need not wait for it to expire.
   */
  handedBack?: readonly string[];
}

function recoverable(options: RecoverOptions): SQL | undefined {
  if (options.handedBack) return inArray(messages.id, [...options.handedBack]);
  const expired = lt(messages.leaseUntil, sql`now()`);
  if (options.unleased ?? true) return or(isNull(messages.leaseUntil), expired);
  if (options.leaseMs === undefined) return expired;
  const preLease = and(
    eq(messages.status, "streaming"),
    isNull(messages.leaseUntil),
    lt(
      messages.createdAt,
      sql`now() - ${Math.max(0, Math.round(options.leaseMs))} * interval '1 millisecond'`,
    ),
  );
  return or(expired, preLease);
}

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
 * the job queue for a worker, except a streaming one created more than `leaseMs` ago (see
 * RecoverOptions). One transaction, so a crash during recovery leaves everything as it was.
 */
export async function recoverInterrupted(
  db: Database,
  options: RecoverOptions = {},
): Promise<string[]> {
  if (options.handedBack?.length === 0) return [];
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
      .where(and(inArray(messages.status, UNFINISHED_STATUSES), recoverable(options)))
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
