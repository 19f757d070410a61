import { ErrorCode, PadtError } from "@padt/protocol";
import { and, asc, inArray, sql } from "drizzle-orm";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { UNFINISHED_STATUSES } from "../db/repos/messages.js";
import { messages } from "../db/schema.js";
import { gatewayError } from "../errors.js";
import type { GenerationJob } from "../generation/job.js";
import {
  ownerRetryAfterMs,
  type QueueSnapshot,
  type Requester,
  type RetryLine,
  ServiceTime,
} from "../generation/retry_hint.js";
import { type ModelCapacity, modelCapacity } from "./registry.js";
import type { ServiceRate } from "./service_rate.js";

/** Advisory lock key for admission: "padtadmt" in ASCII. */
const ADMISSION_LOCK_KEY = 0x7061647461646d74n;
/** When no worker serves the model: a worker starting needs seconds to load it. */
const MODEL_UNAVAILABLE_RETRY_MS = 2000;

export interface QueueAdmission {
  model: string;
  /** A worker is live while its heartbeat is at most this old. */
  leaseMs: number;
  limits: Pick<Limits, "generationsPerOwner" | "queueLength">;
  /** This replica's line of sends refused for a full queue (retry_hint.ts). */
  line: RetryLine;
  /** This replica's view of the workers' completions per second (service_rate.ts). */
  rate: ServiceRate;
  /** The requester's place in `line` changed (undefined: gone): tell the other replicas. */
  placeChanged?: (who: Requester, place: { frees: number; back: number } | undefined) => void;
}

/**
 * Admission for every gateway replica at once, in the transaction that stores the pending
 * answer `job` (which it therefore sees, and leaves out of its counts): MODEL_UNAVAILABLE when
 * no live worker advertises the model (registry.ts), TOO_MANY_GENERATIONS for the owner's
 * unfinished answers against `generationsPerOwner`, QUEUE_FULL for everyone's against
 * `queueLength`. A refusal throws, so the transaction rolls back and nothing is written.
 * Replicas take turns on one advisory lock for the rest of their transaction, so two of them
 * cannot both admit the last place.
 *
 * The retry hints are `--role all`'s (generation/retry_hint.ts): the queue's future simulated
 * from the answers in service on the workers (their elapsed time as the workers advertise it),
 * those waiting, the workers' advertised capacity and their measured service: while answers
 * wait, the slot time their completion rate implies (service_rate.ts), else their mean
 * claim-to-finish time.
 */
export async function admitInTransaction(
  tx: Database,
  job: Pick<GenerationJob, "ownerId" | "sessionId" | "messageId">,
  options: QueueAdmission,
): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK_KEY.toString()}::bigint)`);
  const capacity = await modelCapacity(tx, options.model, options.leaseMs);
  if (capacity.workers === 0)
    throw gatewayError(
      ErrorCode.MODEL_UNAVAILABLE,
      `No padt worker serves model ${options.model} now; retry later`,
      { model: options.model, retryAfterMs: MODEL_UNAVAILABLE_RETRY_MS },
    );
  const ahead = await tx
    .select({ id: messages.id, ownerId: messages.ownerId })
    .from(messages)
    .where(and(inArray(messages.status, UNFINISHED_STATUSES), sql`${messages.role} = 'assistant'`))
    .orderBy(asc(messages.createdAt), asc(messages.id));
  const others = ahead.filter((m) => m.id !== job.messageId);
  options.rate.observe(
    capacity.completed,
    others.some((m) => !capacity.inService.has(m.id)),
  );
  const queue = snapshot(others, capacity, options.rate.perMs());
  const { generationsPerOwner, queueLength } = options.limits;
  if (others.filter((m) => m.ownerId === job.ownerId).length >= generationsPerOwner)
    throw gatewayError(
      ErrorCode.TOO_MANY_GENERATIONS,
      `At most ${generationsPerOwner} generations per owner may be queued or running`,
      { max: generationsPerOwner, retryAfterMs: ownerRetryAfterMs(queue, job.ownerId) },
    );
  // Free places may be kept for clients refused earlier, whose turn it is (retry_hint.ts).
  if (!options.line.admits(job, queueLength - others.length, queue)) {
    const retryAfterMs = options.line.refuse(job, queue);
    options.placeChanged?.(job, options.line.placeOf(job));
    throw new PadtError(ErrorCode.QUEUE_FULL, "The generation queue is full; retry later", {
      retryAfterMs,
    });
  }
  const promised = options.line.placeOf(job);
  options.line.admitted(job, queue);
  if (promised) options.placeChanged?.(job, options.line.placeOf(job));
}

/** The unfinished answers as the retry hints see them: in service on a worker, then waiting. */
function snapshot(
  unfinished: readonly { id: string; ownerId: string }[],
  capacity: ModelCapacity,
  completionsPerMs: number | undefined,
): QueueSnapshot {
  const serving = unfinished.filter((m) => capacity.inService.has(m.id));
  const inService = serving.map((m) => capacity.inService.get(m.id) as number);
  const waiting = unfinished.filter((m) => !capacity.inService.has(m.id)).map((m) => m.ownerId);
  const workers = Math.max(1, capacity.capacity);
  const service = new ServiceTime();
  if (capacity.serviceMs !== null) service.observe(capacity.serviceMs);
  const claimToFinish = service.estimateMs(inService);
  // Saturated (answers wait): every slot takes workers / rate per answer, gaps included.
  const slotMs =
    waiting.length > 0 && completionsPerMs ? workers / completionsPerMs : claimToFinish;
  return {
    inService,
    inServiceOwners: serving.map((m) => m.ownerId),
    waiting,
    workers,
    meanMs: Math.max(claimToFinish, slotMs),
  };
}
