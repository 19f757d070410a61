import type { Usage } from "@padt/engine";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { recentEventsOf } from "../recent_events.js";
import {
  type Message,
  type MessageEvent,
  type MessageMetadata,
  type MessagePart,
  messages,
} from "../schema.js";
import { insertEvent } from "./events.js";
import { leaseFrom } from "./leases.js";
import { assertMessageId, refuseChange, UNFINISHED_STATUSES } from "./messages.js";
import { insertParts, type PartInput } from "./parts.js";

const unfinished = (ownerId: string, id: string) =>
  and(
    eq(messages.id, id),
    eq(messages.ownerId, ownerId),
    inArray(messages.status, UNFINISHED_STATUSES),
  );

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
 * Ends a generation in one transaction: final status, answer parts, result, usage and the
 * closing event. Only a pending or streaming message can end, and only once: whichever
 * of "complete" and "cancel" commits first wins, the other gets INVALID_STATE.
 */
export async function finishMessage(
  db: Database,
  ownerId: string,
  id: string,
  outcome: Outcome,
): Promise<{ message: Message; parts: MessagePart[]; event: MessageEvent }> {
  assertMessageId(id);
  const finished = await db.transaction(async (tx) => {
    const [message] = await tx
      .update(messages)
      .set({
        status: outcome.status,
        result: outcome.status === "complete" ? (outcome.result ?? null) : null,
        errorCode: outcome.status === "failed" ? outcome.error.code : null,
        errorMessage: outcome.status === "failed" ? outcome.error.message : null,
        usage: outcome.usage ?? null,
        metadata: outcome.metadata ?? null,
        completedAt: sql`now()`,
        leaseUntil: null,
        lastSeq: sql`${messages.lastSeq} + 1`,
      })
      .where(unfinished(ownerId, id))
      .returning();
    if (!message) return refuseChange(tx, ownerId, id, `mark ${outcome.status}`);
    const parts = await insertParts(tx, ownerId, id, outcome.parts ?? []);
    const event = await insertEvent(tx, id, message.lastSeq, terminalEvent(outcome));
    return { message, parts, event };
  });
  // Committed, unless `db` is itself a transaction (then recentEventsOf gives nothing).
  recentEventsOf(db)?.record(id, [finished.event]);
  return finished;
}
