import type { Database } from "../db/database.js";
import type { GenerationJob, Reservation, StopReason } from "./job.js";
import type { Requester } from "./retry_hint.js";

/**
 * What the API side asks of whoever runs generations: the in-process runner (runner.ts,
 * `--role all`) or the durable job queue that `padt worker` processes serve (queue/, `--role
 * gateway`). sendMessage: `reserve`, then in the transaction that stores the exchange
 * `enqueue`, then after commit `start`.
 */
/** Who serves the model now, for the `model` query. */
export interface Serving {
  /** Processes running the model: 1 in `--role all`, the live `padt worker`s otherwise. */
  workers: number;
  /** Answers they run at once. */
  capacity: number;
  /** Answers they run now. */
  inFlight: number;
  /** Their execution providers, once each (empty when no worker is live). */
  executionProviders: string[];
}

export interface Generations {
  /** Places held in this process (reserved, waiting or running). */
  readonly active: number;
  /** Takes a place for the next answer of a session, or throws a typed error. */
  reserve(who: Requester): Reservation;
  release(reservation: Reservation): void;
  /** Runs inside the transaction that stores the pending answer (a lease, or the queue's job). */
  enqueue(tx: Database, job: GenerationJob): Promise<void>;
  /** After that transaction committed; never throws. */
  start(reservation: Reservation, job: GenerationJob): void;
  /** Stops a generation wherever it runs; resolves once the message is final. */
  cancel(ownerId: string, messageId: string, reason?: StopReason): Promise<void>;
  cancelSession(ownerId: string, sessionId: string): Promise<void>;
  subscriberJoined(messageId: string): void;
  subscriberLeft(messageId: string): void;
  /** Who runs this model's answers now. */
  serving(): Promise<Serving>;
  /** Shutdown: refuse new work, let running work finish within `drainMs`. */
  drain(drainMs: number): Promise<void>;
}
