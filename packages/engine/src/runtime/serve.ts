import { parentPort, workerData } from "node:worker_threads";
import { ErrorCode, PadtError } from "@padt/protocol";
import { serializeError } from "./errors_wire.js";
import { EVENT_INTERVAL_MS, EventBatch, groupByJob } from "./event_batch.js";
import type { FromWorker, ToWorker } from "./protocol.js";

export interface JobContext<Ev> {
  emit(event: Ev): void;
  /** True once the caller cancelled; jobs check it between steps (a native call cannot be interrupted). */
  readonly cancelled: boolean;
  throwIfCancelled(): void;
}

export type JobHandler<Req, Ev> = (request: Req, context: JobContext<Ev>) => Promise<void>;

/** A worker's start-up result: its handler, and information for the pool (plain data). */
export interface WorkerSetup<Req, Ev> {
  handler: JobHandler<Req, Ev>;
  info?: unknown;
}

/** The data the pool was started with, inside a worker. */
export function workerInput<T>(): T {
  return (workerData as { data: T }).data;
}

/**
 * Runs inside a worker thread: builds the handler once (loading models), then runs the jobs
 * the pool sends, streaming their events back; several run at once when the pool sends them
 * (its `perWorker`), interleaved at their awaits.
 */
export function serveJobs<Req, Ev>(
  init: () => Promise<JobHandler<Req, Ev> | WorkerSetup<Req, Ev>>,
  eventIntervalMs = EVENT_INTERVAL_MS,
): void {
  const port = parentPort;
  if (!port) throw new Error("serveJobs must run in a worker thread");
  const send = (message: FromWorker<Ev>) => port.postMessage(message);

  init().then(
    (setup) => {
      const { handler, info } =
        typeof setup === "function" ? { handler: setup, info: undefined } : setup;
      // One batch for all the worker's jobs (the jobs it batches emit their events in the same
      // turn of its loop, a decode step), sent at most once per EVENT_INTERVAL_MS: each message
      // wakes the main thread, which costs this thread's next graph run (event_batch.ts).
      const batch = new EventBatch<{ id: number; event: Ev }>(
        (items) => send({ type: "events", jobs: groupByJob(items) }),
        { intervalMs: eventIntervalMs },
      );
      port.on("message", async (message: ToWorker<Req>) => {
        const flag = new Int32Array(message.cancel);
        const { id } = message;
        const context: JobContext<Ev> = {
          emit: (event) => batch.push({ id, event }),
          get cancelled() {
            return Atomics.load(flag, 0) !== 0;
          },
          throwIfCancelled() {
            if (Atomics.load(flag, 0) !== 0)
              throw new PadtError(ErrorCode.GENERATION_CANCELLED, "cancelled");
          },
        };
        try {
          await handler(message.request, context);
          batch.flush();
          send({ type: "end", id: message.id });
        } catch (error) {
          batch.flush();
          send({ type: "error", id: message.id, error: serializeError(error) });
        }
      });
      send({ type: "ready", info });
    },
    (error) => send({ type: "init-failed", error: serializeError(error) }),
  );
}
