import { ErrorCode } from "@padt/protocol";
import type { Bus } from "../bus.js";
import type { Database } from "../db/database.js";
import { isDbError } from "../db/errors.js";
import { cancelFromEvents } from "../db/repos/unfinished.js";

/**
 * Cancels an answer this process is not running (queued for a worker, or generating on
 * another replica): the database state first (CANCELLED with its streamed parts, so its
 * worker's next event write is refused), then a stop signal so the worker aborts at once,
 * even mid-prefill, and the wake-ups for subscribers on every replica. Cancelling a message
 * that is already final does nothing.
 */
export async function cancelElsewhere(
  db: Database,
  bus: Bus,
  ownerId: string,
  messageId: string,
): Promise<void> {
  try {
    const { message } = await cancelFromEvents(db, ownerId, messageId);
    bus.stops.publish(messageId, "cancelled");
    bus.messages.publish(messageId, message.lastSeq);
    bus.sessions.publish(message.sessionId, { type: "message_status_changed", messageId });
  } catch (error) {
    if (!isDbError(error, ErrorCode.INVALID_STATE)) throw error;
  }
}
