/** Messages between the main thread and a model worker. Plain data: structured-clone safe. */

export type ToWorker<Req> =
  /** `cancel` is a shared Int32Array[1]: the main thread sets it, the job polls it between steps. */
  { type: "job"; id: number; request: Req; cancel: SharedArrayBuffer };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

export interface JobEvents<Ev> {
  id: number;
  events: Ev[];
}

export type FromWorker<Ev> =
  /** `info`: what the worker wants the pool to know once it is ready (e.g. the provider in use). */
  | { type: "ready"; info?: unknown }
  | { type: "init-failed"; error: SerializedError }
  /**
   * The events of every job of the worker emitted in one turn of its loop (one decode step of
   * its batch), each job's in order: one message per step, not one per job (event_batch.ts).
   */
  | { type: "events"; jobs: JobEvents<Ev>[] }
  | { type: "end"; id: number }
  | { type: "error"; id: number; error: SerializedError };
