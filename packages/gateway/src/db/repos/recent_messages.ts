import { sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { isUuid } from "../ids.js";
import { rowOf } from "../raw_rows.js";
import { type Message, type MessagePart, messageParts, messages } from "../schema.js";

/**
 * The last `limit` messages of a session, oldest first, each with its parts in order: one
 * statement (the messages joined to their parts), where a page of messages and then their
 * parts took two round trips before an answer could start. Empty for another owner's session.
 */
export async function recentMessagesWithParts(
  db: Database,
  ownerId: string,
  sessionId: string,
  limit: number,
): Promise<{ message: Message; parts: MessagePart[] }[]> {
  if (!isUuid(sessionId)) return [];
  // The parts come as JSON (a row per part, its message's columns repeated beside it).
  const result = (await db.execute(sql`
    SELECT m.*, row_to_json(p) AS padt_part
    FROM (
      SELECT * FROM ${messages} WHERE session_id = ${sessionId} AND owner_id = ${ownerId}
      ORDER BY created_at DESC, id DESC LIMIT ${limit}
    ) AS m
    LEFT JOIN ${messageParts} AS p ON p.message_id = m.id AND p.owner_id = m.owner_id
    ORDER BY m.created_at, m.id, p.ordinal`)) as unknown as {
    rows: (Record<string, unknown> & { padt_part: Record<string, unknown> | null })[];
  };
  const out: { message: Message; parts: MessagePart[] }[] = [];
  for (const row of result.rows) {
    let last = out.at(-1);
    if (!last || last.message.id !== row.id) {
      last = { message: rowOf(messages, row), parts: [] };
      out.push(last);
    }
    if (row.padt_part) last.parts.push(rowOf(messageParts, row.padt_part));
  }
  return out;
}
