import { and, inArray, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { messages } from "../schema.js";
import { UNFINISHED_STATUSES } from "./messages.js";

/** `now() + ms` on the database's clock: every replica compares leases against the same one. */
export function leaseFrom(ms: number) {
  return sql<Date>`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;
}

/**
 * Extends the leases of unfinished messages to `ms` from now, one statement for all of them.
 * Returns the ids still held: one missing was finished elsewhere (cancelled through another
 * replica, or recovered as interrupted after its lease ran out), so its holder must stop.
 */
export async function renewLeases(
  db: Database,
  ids: readonly string[],
  ms: number,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .update(messages)
    .set({ leaseUntil: leaseFrom(ms) })
    .where(and(inArray(messages.id, [...ids]), inArray(messages.status, UNFINISHED_STATUSES)))
    .returning({ id: messages.id });
  return new Set(rows.map((r) => r.id));
}
