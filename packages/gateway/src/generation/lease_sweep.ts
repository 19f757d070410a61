import { inArray } from "drizzle-orm";
import type { Bus } from "../bus.js";
import type { Database } from "../db/database.js";
import { recoverInterrupted } from "../db/recover.js";
import { messages } from "../db/schema.js";
import { removeGenerationJobs } from "../queue/graphile.js";
import type { Logger } from "../server/logger.js";

/**
 * Recovery by lease on a shared PostgreSQL: every process looks, every `everyMs`, for
 * answers whose lease ran out (their process died or stalled) and ends them INTERRUPTED with
 * the text and references they had streamed (recover.ts), then wakes their subscribers on
 * every replica. Answers waiting in the job queue have no lease and are left alone. Several
 * sweepers at once are fine: each expired answer is marked by exactly one of them.
 *
 * With the job queue (`queued`), the dead worker's graphile jobs for those answers are removed
 * too: graphile would keep them locked for 4 hours, counted as claimed work.
 */
export function sweepExpiredLeases(options: {
  db: Database;
  bus: Bus;
  everyMs: number;
  /** The job queue is installed on this database (`--role gateway`, `padt worker`). */
  queued?: boolean;
  logger?: Logger;
}): { stop(): void; sweep(): Promise<string[]> } {
  const { db, bus, logger } = options;
  let sweeping: Promise<string[]> | undefined;
  const sweep = () => {
    sweeping ??= (async () => {
      try {
        const ids = await recoverInterrupted(db, { unleased: false });
        if (ids.length === 0) return ids;
        logger?.warn({ count: ids.length }, "answers interrupted: their lease expired");
        if (options.queued) await removeGenerationJobs(db, ids);
        const rows = await db
          .select({ id: messages.id, sessionId: messages.sessionId, lastSeq: messages.lastSeq })
          .from(messages)
          .where(inArray(messages.id, ids));
        for (const m of rows) {
          bus.messages.publish(m.id, m.lastSeq);
          bus.sessions.publish(m.sessionId, { type: "message_status_changed", messageId: m.id });
        }
        return ids;
      } catch (error) {
        logger?.warn({ err: error }, "lease sweep failed");
        return [];
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  };
  const timer = setInterval(() => void sweep(), Math.max(50, options.everyMs));
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
