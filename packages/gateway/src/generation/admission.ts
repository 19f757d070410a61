import { ErrorCode, PadtError } from "@padt/protocol";
import type { Limits } from "../config.js";
import { gatewayError } from "../errors.js";
import type { Reservation, Running } from "./job.js";
import {
  ownerRetryAfterMs,
  type QueueSnapshot,
  type Requester,
  RetryLine,
  ServiceTime,
} from "./retry_hint.js";
import type { Slot } from "./run_queue.js";

export interface AdmissionOptions {
  limits: Pick<Limits, "generationsPerOwner" | "queueLength">;
  /** The runner's started jobs (in service or waiting for a worker). */
  running: ReadonlyMap<string, Running>;
  /** Answers the engine runs at once (workers x each worker's batch). */
  workers: () => number;
  /** Called after the count of held places changed. */
  changed: () => void;
}

/**
 * Admission, before sendMessage writes anything, so a refusal leaves no rows: SHUTTING_DOWN
 * while draining, TOO_MANY_GENERATIONS past the per-owner limit, QUEUE_FULL when this process
 * already holds `queueLength` generations; both with a `retryAfterMs` from the measured
 * service time and the queue (retry_hint.ts). A place is held from `reserve` until `release`.
 */
export class Admission {
  readonly #perOwner = new Map<string, number>();
  /** Admitted but not started yet (sendMessage is writing the rows). */
  readonly #reserved = new Set<Reservation>();
  readonly #service = new ServiceTime();
  /** Clients refused because the queue was full, in the order they are promised places. */
  readonly #line: RetryLine;
  #held = 0;
  #accepting = true;

  constructor(private readonly options: AdmissionOptions) {
    this.#line = new RetryLine(options.limits.generationsPerOwner);
  }

  /** Places held: reserved, waiting for a worker, or running. */
  get held(): number {
    return this.#held;
  }

  /** Shutdown: every later `reserve` is refused with SHUTTING_DOWN. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Takes a place in the queue for the next answer of a session, or throws a typed error. */
  reserve(who: Requester): Reservation {
    const { ownerId } = who;
    if (!this.#accepting)
      throw gatewayError(
        ErrorCode.SHUTTING_DOWN,
        "The server is shutting down; retry on another instance",
      );
    const mine = this.#perOwner.get(ownerId) ?? 0;
    const { generationsPerOwner, queueLength } = this.options.limits;
    if (mine >= generationsPerOwner) {
      throw gatewayError(
        ErrorCode.TOO_MANY_GENERATIONS,
        `At most ${generationsPerOwner} generations per owner may be queued or running`,
        { max: generationsPerOwner, retryAfterMs: ownerRetryAfterMs(this.#snapshot(), ownerId) },
      );
    }
    const queue = this.#snapshot();
    // Free places may be kept for clients refused earlier, whose turn it is (retry_hint.ts).
    if (!this.#line.admits(who, queueLength - this.#held, queue)) {
      throw new PadtError(ErrorCode.QUEUE_FULL, "The generation queue is full; retry later", {
        retryAfterMs: this.#line.refuse(who, queue),
      });
    }
    this.#line.admitted(who, queue);
    this.#perOwner.set(ownerId, mine + 1);
    this.#held += 1;
    const reservation = { ownerId, released: false };
    this.#reserved.add(reservation);
    this.options.changed();
    return reservation;
  }

  /** The reservation's job has started: it now counts as running, still holding its place. */
  started(reservation: Reservation): void {
    this.#reserved.delete(reservation);
  }

  release(reservation: Reservation): void {
    this.#reserved.delete(reservation);
    if (reservation.released) return;
    reservation.released = true;
    const n = (this.#perOwner.get(reservation.ownerId) ?? 1) - 1;
    if (n <= 0) this.#perOwner.delete(reservation.ownerId);
    else this.#perOwner.set(reservation.ownerId, n);
    this.#held -= 1;
    this.options.changed();
  }

  /** A job's time on an engine worker, for the retry hints' service-time estimate. */
  observeService(ms: number): void {
    this.#service.observe(ms);
  }

  /** The queue as the retry hints see it: jobs in service, then waiting ones in order. */
  #snapshot(): QueueSnapshot {
    const now = performance.now();
    const all = [...this.options.running.values()];
    const serving = all.filter((r) => r.slot);
    const inService = serving.map((r) => now - (r.slot as Slot).since);
    return {
      inService,
      inServiceOwners: serving.map((r) => r.job.ownerId),
      waiting: [
        ...all.filter((r) => !r.slot).map((r) => r.job.ownerId),
        ...[...this.#reserved].map((r) => r.ownerId),
      ],
      workers: Math.max(1, this.options.workers()),
      meanMs: this.#service.estimateMs(inService),
    };
  }
}
