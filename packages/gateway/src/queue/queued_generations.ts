import { ErrorCode } from "@padt/protocol";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { unfinishedInSession } from "../db/repos/unfinished.js";
import { gatewayError } from "../errors.js";
import type { Generations } from "../generation/generations.js";
import type { GenerationJob, Reservation } from "../generation/job.js";
import { WatchAnnouncer } from "../generation/presence.js";
import type { Requester } from "../generation/retry_hint.js";
import { cancelElsewhere } from "../generation/stop_elsewhere.js";
import { admitInTransaction } from "./admission.js";
import { addGenerationJob } from "./graphile.js";

/**
 * `--role gateway`: answers are handed to `padt worker` processes through the durable job
 * queue, in the transaction that stores them, and stopped through the database and the bus.
 *
 * Queue-length and per-owner limits hold across replicas: they are checked in the enqueueing
 * transaction (admission.ts). Abandonment grace runs on the worker, which counts the replicas
 * watching (presence.ts) announced from here.
 */
export class QueuedGenerations implements Generations {
  #accepting = true;
  #held = 0;

  readonly #announcer: WatchAnnouncer;

  constructor(
    private readonly options: {
      db: Database;
      bus: Bus;
      model: string;
      heartbeatMs: number;
      limits: Pick<Limits, "generationsPerOwner" | "queueLength">;
    },
  ) {
    this.#announcer = new WatchAnnouncer(options.bus, options.heartbeatMs);
  }

  get active(): number {
    return this.#held;
  }

  reserve(who: Requester): Reservation {
    if (!this.#accepting)
      throw gatewayError(
        ErrorCode.SHUTTING_DOWN,
        "The server is shutting down; retry on another instance",
      );
    this.#held += 1;
    return { ownerId: who.ownerId, released: false };
  }

  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.#held -= 1;
  }

  async enqueue(tx: Database, job: GenerationJob): Promise<void> {
    await admitInTransaction(tx, job.ownerId, this.options.limits);
    await addGenerationJob(tx, this.options.model, job);
  }

  /** The job is in the queue: nothing runs here. */
  start(reservation: Reservation): void {
    this.release(reservation);
  }

  cancel(ownerId: string, messageId: string): Promise<void> {
    return cancelElsewhere(this.options.db, this.options.bus, ownerId, messageId);
  }

  async cancelSession(ownerId: string, sessionId: string): Promise<void> {
    const ids = await unfinishedInSession(this.options.db, ownerId, sessionId);
    await Promise.all(ids.map((id) => this.cancel(ownerId, id)));
  }

  subscriberJoined(messageId: string): void {
    this.#announcer.joined(messageId);
  }

  subscriberLeft(messageId: string): void {
    this.#announcer.left(messageId);
  }

  async drain(): Promise<void> {
    this.#accepting = false;
    this.#announcer.stop();
  }
}
