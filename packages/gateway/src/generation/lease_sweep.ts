import { inArray } from "drizzle-orm";
import type { Bus } from "../bus.js";
import type { Database } from "../db/database.js";
import { recoverInterrupted } from "../db/recover.js";
import { messages } from "../db/schema.js";
import { removeGenerationJobs } from "../queue/graphile.js";
import type { Logger } from "../server/logger.js";

export interface LeaseSweep {
  stop(): void;
  /** One round: ends every answer whose lease expired. */
  sweep(): Promise<string[]>;
  /**
   * Ends the answers this process holds and gives up (a worker's shutdown past its drain
   * window) the way a round ends expired ones, at once instead of when their lease runs out.
   * Never rejects: should the database be unreachable, their lease expires and a sweep ends them.
   */
  handBack(messageIds: readonly string[]): Promise<string[]>;
}

/**
 * Recovery by lease on a shared PostgreSQL: every process looks, every `everyMs`, for
 * answers whose lease ran out (their process died or stalled) and ends them INTERRUPTED with
 * the text and references they had streamed (recover.ts), then wakes their subscribers on
 * every replica. Answers waiting in the job queue have no lease and are left alone; streaming
 * ones without a lease older than `leaseMs` (left by a version from before leases) count as
 * expired. Several sweepers at once are fine: each expired answer is marked by exactly one.
 *
 * With the job queue (`queued`), the dead worker's graphile jobs for those answers are removed
 * too: graphile would keep them locked for 4 hours, counted as claimed work.
 */
export function sweepExpiredLeases(options: {
  db: Database;
  bus: Bus;
  everyMs: number;
  /** The lease timeout (PADT_LEASE_MS). */
  leaseMs: number;
  /** The job queue is installed on this database (`--role gateway`, `padt worker`). */
  queued?: boolean;
  logger?: Logger;
}): LeaseSweep {
  const { db, bus, logger } = options;
  const end = async (recover: () => Promise<string[]>, why: string): Promise<string[]> => {
    try {
      const ids = await recover();
      if (ids.length === 0) return ids;
      logger?.warn({ count: ids.length }, `answers interrupted: ${why}`);
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
      logger?.warn({ err: error }, "lease recovery failed");
      return [];
    }
  };
  let sweeping: Promise<string[]> | undefined;
  const sweep = () => {
    sweeping ??= end(
      () => recoverInterrupted(db, { unleased: false, leaseMs: options.leaseMs }),
      "their lease expired",
    ).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer = setInterval(() => void sweep(), Math.max(50, options.everyMs));
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    sweep,
    handBack: (messageIds) =>
      end(() => recoverInterrupted(db, { handedBack: messageIds }), "handed back at shutdown"),
  };
}
