import type { Usage } from "@padt/engine";
import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../database.js";
import { type MessageMetadata, messages } from "../schema.js";
import { UNFINISHED_STATUSES } from "./messages.js";

/**
 * Stores what an unfinished answer's own process knows of it (the history trim, the trace,
 * usage) on the message, leaving its status alone: a worker handing an answer back at
 * shutdown writes this first, so the recovery that then ends it INTERRUPTED (db/recover.ts,
 * which keeps both columns) leaves the same record a cancelled answer gets. Written before the
 * hand-back rather than with it, it survives a hand-back that fails (the lease sweep ends the
 * answer later). A message already finished (cancelled elsewhere) is left as it is.
 */
export async function keepAnswerRecord(
  db: Database,
  ownerId: string,
  id: string,
  record: { metadata: MessageMetadata | null; usage: Usage | null },
): Promise<void> {
  await db
    .update(messages)
    .set({ metadata: record.metadata, usage: record.usage })
    .where(
      and(
        eq(messages.id, id),
        eq(messages.ownerId, ownerId),
        inArray(messages.status, UNFINISHED_STATUSES),
      ),
    );
}
