import type { StoredGenerationOptions } from "../db/schema.js";
import type { Slot } from "./run_queue.js";

export interface GenerationJob {
  ownerId: string;
  sessionId: string;
  /** The assistant message to fill. */
  messageId: string;
  task: string | null;
  taskInput: unknown;
  options: StoredGenerationOptions | null;
  /** W3C traceparent of the span that asked for this answer (generation/trace.ts); absent when not traced. */
  traceparent?: string;
}

/** Why a running generation was stopped. */
export type StopReason = "cancelled" | "abandoned" | "shutdown";

/** A place in the run queue, held from before sendMessage writes until the job starts. */
export interface Reservation {
  readonly ownerId: string;
  released: boolean;
}

/** A started job, from `start` until its message is final. */
export interface Running {
  job: GenerationJob;
  controller: AbortController;
  done: Promise<void>;
  subscribers: number;
  graceTimer?: NodeJS.Timeout;
  /** Set while the job holds one of the engine's workers; unset while it waits in the queue. */
  slot?: Slot;
}
