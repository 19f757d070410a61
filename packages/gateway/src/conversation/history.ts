import type { Database } from "../db/database.js";
import { MAX_PAGE_SIZE } from "../db/pagination.js";
import { recentMessagesWithParts } from "../db/repos/recent_messages.js";
import type { Message, MessagePart } from "../db/schema.js";

export interface History {
  /** Oldest first: user messages and the answers that completed. */
  messages: Message[];
  parts: Map<string, MessagePart[]>;
}

/**
 * The recent history of a session that a new message continues: its last MAX_PAGE_SIZE
 * messages, without answers that failed, were cancelled or are still running (the model
 * should not see half an answer as if it had said it). One query.
 */
export async function loadHistory(
  db: Database,
  ownerId: string,
  sessionId: string,
  options: { before?: string } = {},
): Promise<History> {
  const messages: Message[] = [];
  const parts = new Map<string, MessagePart[]>();
  for (const recent of await recentMessagesWithParts(db, ownerId, sessionId, MAX_PAGE_SIZE)) {
    const { message } = recent;
    if (options.before !== undefined && message.id === options.before) break;
    if (message.role === "user" || message.status === "complete") {
      messages.push(message);
      parts.set(message.id, recent.parts);
    }
  }
  return { messages, parts };
}

export function conversationImages(history: History): string[] {
  const ids: string[] = [];
  for (const m of history.messages) {
    for (const p of history.parts.get(m.id) ?? []) {
      if (p.kind === "image" && p.imageId) ids.push(p.imageId);
    }
  }
  return ids;
}
