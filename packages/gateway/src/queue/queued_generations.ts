import { ErrorCode } from "@padt/protocol";
import type { Bus } from "../bus.js";
import type { Limits } from "../config.js";
import type { Database } from "../db/database.js";
import { unfinishedInSession } from "../db/repos/unfinished.js";
import { gatewayError } from "../errors.js";
import type { Generations, Serving } from "../generation/generations.js";
import type { GenerationJob, Reservation } from "../generation/job.js";
import { WatchAnnouncer } from "../generation/presence.js";
import { type Requester, RetryLine } from "../generation/retry_hint.js";
import { cancelElsewhere } from "../generation/stop_elsewhere.js";
import { admitInTransaction } from "./admission.js";
import { addGenerationJob } from "./graphile.js";
import { modelCapacity } from "./registry.js";
import { ServiceRate } from "./service_rate.js";

/** The one bus topic the replicas' lines travel on. */
const LINE_TOPIC = "line";

/**
 * `--role gateway`: answers are handed to `padt worker` processes through the durable job
 * queue, in the transaction that stores them, and stopped through the database and the bus.
 *
 * Queue-length and per-owner limits hold across replicas, and sends for a model no live worker
 * serves are refused: both are checked in the enqueueing transaction (admission.ts). Abandonment grace runs on the worker, which counts the replicas
 * watching (presence.ts) announced from here.
 */
export class QueuedGenerations implements Generations {
  #accepting = true;
  #held = 0;

  readonly #announcer: WatchAnnouncer;
  /** Sends refused here for a full queue, promised places in order (retry_hint.ts). */
  readonly #line: RetryLine;
  readonly #rate = new ServiceRate();
  readonly #offLine: () => void;

  constructor(
    private readonly options: {
      db: Database;
      bus: Bus;
      model: string;
      heartbeatMs: number;
      /** A worker is live while its heartbeat is at most this old (registry.ts). */
      leaseMs: number;
      limits: Pick<Limits, "generationsPerOwner" | "queueLength">;
    },
  ) {
    this.#announcer = new WatchAnnouncer(options.bus, options.heartbeatMs);
    this.#line = new RetryLine(options.limits.generationsPerOwner);
    // Every replica keeps the places the others promised (clock: ms since the epoch on the
    // wire, performance.now() in the line).
    const me = this.#announcer.from;
    this.#offLine = options.bus.line.on(LINE_TOPIC, (notice) => {
      if (notice.from === me) return;
      if (notice.frees === undefined || notice.back === undefined) this.#line.drop(notice);
      else {
        const offset = Date.now() - performance.now();
        this.#line.hold(notice, notice.frees - offset, notice.back - offset);
      }
    });
  }

  #placeChanged(who: Requester, place: { frees: number; back: number } | undefined): void {
    const offset = Date.now() - performance.now();
    const { ownerId, sessionId } = who;
    this.options.bus.line.publish(LINE_TOPIC, {
      from: this.#announcer.from,
      ownerId,
      sessionId,
      ...(place ? { frees: place.frees + offset, back: place.back + offset } : {}),
    });
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
    const { model, leaseMs, limits } = this.options;
    await admitInTransaction(tx, job, {
      model,
      leaseMs,
      limits,
      line: this.#line,
      rate: this.#rate,
      placeChanged: (who, place) => this.#placeChanged(who, place),
    });
    await addGenerationJob(tx, this.options.model, job);
  }

  /** The live workers' advertisement (registry.ts). */
  async serving(): Promise<Serving> {
    const c = await modelCapacity(this.options.db, this.options.model, this.options.leaseMs);
    return {
      workers: c.workers,
      capacity: c.capacity,
      inFlight: c.inFlight,
      executionProviders: c.executionProviders,
    };
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
    this.#offLine();
  }
}
