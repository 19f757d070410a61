import { ErrorCode, PadtError } from "@padt/protocol";
import { and, inArray, sql } from "drizzle-orm";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { UNFINISHED_STATUSES } from "../db/repos/messages.js";
import { messages } from "../db/schema.js";
import { gatewayError } from "../errors.js";

/** Advisory lock key for admission: "padtadmt" in ASCII. */
const ADMISSION_LOCK_KEY = 0x7061647461646d74n;
/** When nothing is queued to learn from, the hint a refused client gets. */
const DEFAULT_RETRY_MS = 1000;

/**
 * Admission for every gateway replica at once, in the transaction that stores the pending
 * answer (which it therefore counts): the unfinished answers of the owner against
 * `generationsPerOwner` (TOO_MANY_GENERATIONS) and of everyone against `queueLength`
 * (QUEUE_FULL). A refusal throws, so the transaction rolls back and nothing is written.
 * Replicas take turns on one advisory lock for the rest of their transaction, so two of them
 * cannot both admit the last place.
 *
 * The retry hint is the mean age of the answers ahead (queued or running), an estimate of
 * when one place frees up; it is not yet the measured service rate the one-process
 * admission uses (generation/retry_hint.ts).
 */
export async function admitInTransaction(
  tx: Database,
  ownerId: string,
  limits: Pick<Limits, "generationsPerOwner" | "queueLength">,
): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK_KEY.toString()}::bigint)`);
  const [counts] = await tx
    .select({
      all: sql<number>`count(*)::int`,
      mine: sql<number>`(count(*) FILTER (WHERE ${messages.ownerId} = ${ownerId}))::int`,
      meanAgeMs: sql<
        number | null
      >`(avg(extract(epoch FROM now() - ${messages.createdAt})) * 1000)::float8`,
    })
    .from(messages)
    .where(and(inArray(messages.status, UNFINISHED_STATUSES), sql`${messages.role} = 'assistant'`));
  const { all, mine, meanAgeMs } = counts ?? { all: 0, mine: 0, meanAgeMs: null };
  const retryAfterMs = Math.max(100, Math.round(meanAgeMs ?? DEFAULT_RETRY_MS));
  if (mine > limits.generationsPerOwner)
    throw gatewayError(
      ErrorCode.TOO_MANY_GENERATIONS,
      `At most ${limits.generationsPerOwner} generations per owner may be queued or running`,
      { max: limits.generationsPerOwner, retryAfterMs },
    );
  if (all > limits.queueLength)
    throw new PadtError(ErrorCode.QUEUE_FULL, "The generation queue is full; retry later", {
      retryAfterMs,
    });
}
