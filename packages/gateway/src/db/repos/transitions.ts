import type { Usage } from "@padt/engine";
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { rowOf } from "../raw_rows.js";
import { recentEventsOf } from "../recent_events.js";
import {
  type Message,
  type MessageEvent,
  type MessageMetadata,
  type MessagePart,
  messageEvents,
  messageParts,
  messages,
} from "../schema.js";
import { type EventInput, eventOf, type RawEvent } from "./events.js";
import { leaseFrom } from "./leases.js";
import { assertMessageId, refuseChange, UNFINISHED_STATUSES } from "./messages.js";
import { imageNotFound, type PartInput, partRecords } from "./parts.js";

/**
 * pending -> streaming, when the engine starts on it. The lease (an instant, or a duration in
 * ms from the database's clock, so workers' clocks do not matter) tells recovery on other
 * replicas that this process is running it; its holder renews it (db/repos/leases.ts).
 */
export async function markStreaming(
  db: Database,
  ownerId: string,
  id: string,
  lease: Date | number | null = null,
): Promise<Message> {
  assertMessageId(id);
  const [message] = await db
    .update(messages)
    .set({ status: "streaming", leaseUntil: typeof lease === "number" ? leaseFrom(lease) : lease })
    .where(and(eq(messages.id, id), eq(messages.ownerId, ownerId), eq(messages.status, "pending")))
    .returning();
  return message ?? refuseChange(db, ownerId, id, "start");
}

/** How a generation ended, with the parts of the answer as far as it got. */
export type Outcome = (
  | { status: "complete"; parts: readonly PartInput[]; result?: unknown; usage?: Usage | null }
  | {
      status: "failed";
      error: { code: string; message: string };
      parts?: readonly PartInput[];
      usage?: Usage | null;
    }
  | { status: "cancelled"; parts?: readonly PartInput[]; usage?: Usage | null }
) & { metadata?: MessageMetadata | null };

function terminalEvent(outcome: Outcome) {
  switch (outcome.status) {
    case "complete":
      return { type: "completed" as const, payload: { usage: outcome.usage ?? null } };
    case "failed":
      return { type: "failed" as const, payload: { error: outcome.error } };
    case "cancelled":
      return { type: "cancelled" as const, payload: {} };
    default: {
      const unknown: never = outcome;
      throw new Error(`Unknown outcome: ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Ends a generation in one statement: final status, answer parts, result, usage, then the
 * events `streamed` (what the writer still held: written here under the next seqs, so the
 * end costs one round trip, not a write and then a transaction) and the closing event. Only
 * a pending or streaming message can end, and only once: whichever of "complete" and
 * "cancel" commits first wins, the other gets INVALID_STATE. Data-modifying CTEs: the parts
 * and events are inserted only when the update found the message, and all of it commits or
 * none (an image that is not the owner's fails the statement: NOT_FOUND). `events` are the
 * stored events in seq order, the closing one (`event`) last.
 */
export async function finishMessage(
  db: Database,
  ownerId: string,
  id: string,
  outcome: Outcome,
  streamed: readonly EventInput[] = [],
): Promise<{
  message: Message;
  parts: MessagePart[];
  event: MessageEvent;
  events: MessageEvent[];
}> {
  assertMessageId(id);
  const parts = JSON.stringify(partRecords(ownerId, id, outcome.parts ?? []));
  const events = [...streamed, terminalEvent(outcome)].map((e) => ({
    type: e.type,
    payload: e.payload ?? {},
  }));
  const n = events.length;
  const statuses = sql.join(
    UNFINISHED_STATUSES.map((s) => sql`${s}`),
    sql`, `,
  );
  const failed = outcome.status === "failed" ? outcome.error : undefined;
  let result: { rows: (Record<string, unknown> & FinishedExtras)[] };
  try {
    // Both drivers hand raw rows back as `{ rows }` (the HKT leaves execute's result unknown).
    result = (await db.execute(sql`
      WITH m AS (
        UPDATE ${messages} SET status = ${outcome.status}, result = ${jsonOrNull(outcome.status === "complete" ? outcome.result : null)}::jsonb,
          error_code = ${failed?.code ?? null}, error_message = ${failed?.message ?? null},
          usage = ${jsonOrNull(outcome.usage)}::jsonb, metadata = ${jsonOrNull(outcome.metadata)}::jsonb,
          completed_at = now(), lease_until = NULL, last_seq = last_seq + ${n}::int
        WHERE id = ${id} AND owner_id = ${ownerId} AND status IN (${statuses})
        RETURNING *
      ), p AS (
        INSERT INTO ${messageParts}
        SELECT r.* FROM m, jsonb_populate_recordset(NULL::${messageParts}, ${parts}::jsonb) AS r
        RETURNING *
      ), e AS (
        INSERT INTO ${messageEvents} (message_id, seq, type, payload)
        SELECT m.id, (m.last_seq - ${n}::int + x.ord)::int, x.value->>'type', x.value->'payload'
        FROM m, jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS x(value, ord)
        RETURNING message_id, seq, type, payload, created_at
      )
      SELECT m.*,
        (SELECT coalesce(json_agg(p ORDER BY p.ordinal), '[]'::json) FROM p) AS padt_parts,
        (SELECT json_agg(e ORDER BY e.seq) FROM e) AS padt_events
      FROM m`)) as unknown as typeof result;
  } catch (error) {
    throw imageNotFound(error) ?? error;
  }
  const [row] = result.rows;
  if (!row) return refuseChange(db, ownerId, id, `mark ${outcome.status}`);
  const stored = row.padt_events.map(eventOf);
  // Committed, unless `db` is itself a transaction (then recentEventsOf gives nothing).
  recentEventsOf(db)?.record(id, stored);
  return {
    message: rowOf(messages, row),
    parts: row.padt_parts.map((p) => rowOf(messageParts, p)),
    event: stored.at(-1)!,
    events: stored,
  };
}

/** What the finishing statement returns besides the message's columns. */
interface FinishedExtras {
  padt_parts: Record<string, unknown>[];
  padt_events: RawEvent[];
}

const jsonOrNull = (value: unknown) =>
  value === null || value === undefined ? null : JSON.stringify(value);
