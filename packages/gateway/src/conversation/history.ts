import type { Database } from "../db/database.js";
import { MAX_PAGE_SIZE } from "../db/pagination.js";
import { listMessages } from "../db/repos/messages.js";
import { partsByMessageIds } from "../db/repos/parts.js";
import type { Message, MessagePart } from "../db/schema.js";

export interface History {
  /** Oldest first: user messages and the answers that completed. */
  messages: Message[];
  parts: Map<string, MessagePart[]>;
}

/**
 * The recent history of a session that a new message continues: its last MAX_PAGE_SIZE
 * messages, without answers that failed, were cancelled or are still running (the model
 * should not see half an answer as if it had said it). Two queries.
 */
export async function loadHistory(
  db: Database,
  ownerId: string,
  sessionId: string,
  options: { before?: string } = {},
): Promise<History> {
  const page = await listMessages(db, ownerId, sessionId, { last: MAX_PAGE_SIZE });
  const messages: Message[] = [];
  for (const { node } of page.edges) {
    if (options.before !== undefined && node.id === options.before) break;
    if (node.role === "user" || node.status === "complete") messages.push(node);
  }
  const parts = new Map<string, MessagePart[]>(messages.map((m) => [m.id, []]));
  for (const part of await partsByMessageIds(
    db,
    ownerId,
    messages.map((m) => m.id),
  )) {
    parts.get(part.messageId)?.push(part);
  }
  return { messages, parts };
}

/** Image ids in conversation order (image parts only: that is how the engine numbers images). */
export function conversationImages(history: History): string[] {
  const ids: string[] = [];
  for (const m of history.messages) {
    for (const p of history.parts.get(m.id) ?? []) {
      if (p.kind === "image" && p.imageId) ids.push(p.imageId);
    }
  }
  return ids;
}
