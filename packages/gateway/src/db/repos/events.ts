import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { isUuid } from "../ids.js";
import { prepared } from "../prepared.js";
import { recentEventsOf } from "../recent_events.js";
import { type MessageEvent, type MessageEventType, messageEvents, messages } from "../schema.js";
import { assertMessageId, refuseChange, UNFINISHED_STATUSES } from "./messages.js";

/** An event row as a raw statement returns it (RETURNING, or json_agg: created_at a string). */
export interface RawEvent {
  message_id: string;
  seq: number;
  type: MessageEventType;
  payload: unknown;
  created_at: Date | string;
}

export function eventOf(r: RawEvent): MessageEvent {
  return {
    messageId: r.message_id,
    seq: r.seq,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}

export interface EventInput {
  type: MessageEventType;
  payload: unknown;
}

/**
 * Appends an event to a running generation under the next seq (`appendEvents` with one).
 */
export async function appendEvent(
  db: Database,
  ownerId: string,
  messageId: string,
  event: EventInput,
): Promise<MessageEvent> {
  const [row] = await appendEvents(db, ownerId, messageId, [event]);
  return row!;
}

/**
 * Appends events to a running generation, in order, under the next consecutive seqs, in one
 * statement (one round trip, no explicit transaction). Bumping `last_seq` by their count
 * locks the message row until the statement commits, so concurrent appenders queue and seqs
 * have no gaps; a failed append gives its numbers back. Refused (INVALID_STATE) once the
 * message is finished: a cancelled generation cannot keep streaming into it. The rows come
 * back in seq order.
 */
export async function appendEvents(
  db: Database,
  ownerId: string,
  messageId: string,
  events: readonly EventInput[],
): Promise<MessageEvent[]> {
  assertMessageId(messageId);
  if (events.length === 0) return [];
  const n = events.length;
  const batch = JSON.stringify(events.map((e) => ({ type: e.type, payload: e.payload ?? {} })));
  const statuses = sql.join(
    UNFINISHED_STATUSES.map((s) => sql`${s}`),
    sql`, `,
  );
  // Both drivers hand raw rows back as `{ rows }` (the HKT leaves execute's result unknown).
  const result = (await db.execute(sql`
    WITH bumped AS (
      UPDATE ${messages} SET last_seq = last_seq + ${n}::int
      WHERE id = ${messageId} AND owner_id = ${ownerId} AND status IN (${statuses})
      RETURNING last_seq
    )
    INSERT INTO ${messageEvents} (message_id, seq, type, payload)
    SELECT ${messageId}::uuid, (bumped.last_seq - ${n}::int + e.ord)::int, e.value->>'type', e.value->'payload'
    FROM bumped, jsonb_array_elements(${batch}::jsonb) WITH ORDINALITY AS e(value, ord)
    RETURNING message_id, seq, type, payload, created_at`)) as unknown as { rows: RawEvent[] };
  if (result.rows.length === 0) return refuseChange(db, ownerId, messageId, "stream into");
  const rows = result.rows.map(eventOf).sort((a, b) => a.seq - b.seq);
  // Committed (one statement, outside a transaction): this process's subscribers may use them.
  recentEventsOf(db)?.record(messageId, rows);
  return rows;
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
  const rows = await prepared(db, "list_events", (on, name) =>
    on
      .select({ event: messageEvents })
      .from(messageEvents)
      .innerJoin(messages, eq(messages.id, messageEvents.messageId))
      .where(
        and(
          eq(messageEvents.messageId, sql.placeholder("messageId")),
          eq(messages.ownerId, sql.placeholder("ownerId")),
          gt(messageEvents.seq, sql.placeholder("afterSeq")),
        ),
      )
      .orderBy(asc(messageEvents.seq))
      .limit(sql.placeholder("limit"))
      .prepare(name),
  ).execute({ messageId, ownerId, afterSeq: options.afterSeq ?? 0, limit: options.limit ?? 1000 });
  return rows.map((r) => r.event);
}
