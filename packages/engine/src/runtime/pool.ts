import { Worker } from "node:worker_threads";
import { ErrorCode, PadtError } from "@padt/protocol";
import { Channel } from "./channel.js";
import { deserializeError } from "./errors_wire.js";
import type { FromWorker, ToWorker } from "./protocol.js";

export interface WorkerPoolOptions {
  /** The worker's entry module (it calls `serveJobs`); a .ts entry runs through tsx. */
  entry: URL;
  /** Passed to every worker; read it there with `workerInput()`. */
  workerData?: unknown;
  /** Worker threads. Default 1. */
  size?: number;
  /** Jobs each worker runs at once (the engine's worker batches their decode steps). Default 1. */
  perWorker?: number;
  /** Jobs allowed to wait for a worker; one more is refused with QUEUE_FULL. Default 16. */
  maxQueue?: number;
}

export interface PoolStats {
  workers: number;
  /** Jobs that may run at once: workers x jobs per worker. */
  slots: number;
  /** Jobs running. */
  busy: number;
  queued: number;
  maxQueue: number;
}

interface Job<Req, Ev> {
  id: number;
  request: Req;
  channel: Channel<Ev>;
  cancel: Int32Array<SharedArrayBuffer>;
  detach: () => void;
}

interface Slot<Req, Ev> {
  worker: Worker;
  jobs: Map<number, Job<Req, Ev>>;
}

/**
 * Model work off the main thread: onnxruntime-node's run() is one synchronous native call,
 * so on the main thread it would stall every request and WebSocket ping. Jobs queue here
 * (bounded) and stream their events back as an async iterable.
 */
export class WorkerPool<Req, Ev> {
  readonly #slots: Slot<Req, Ev>[] = [];
  readonly #queue: Job<Req, Ev>[] = [];
  readonly #maxQueue: number;
  readonly #perWorker: number;
  #nextId = 1;
  #closed = false;
  #info: unknown;

  private constructor(private readonly options: WorkerPoolOptions) {
    this.#maxQueue = options.maxQueue ?? 16;
    this.#perWorker = Math.max(1, options.perWorker ?? 1);
  }

  static async start<Req, Ev>(options: WorkerPoolOptions): Promise<WorkerPool<Req, Ev>> {
    const pool = new WorkerPool<Req, Ev>(options);
    try {
      await Promise.all(Array.from({ length: options.size ?? 1 }, () => pool.#spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** What the first worker reported when it became ready. */
  get workerInfo(): unknown {
    return this.#info;
  }

  stats(): PoolStats {
    return {
      workers: this.#slots.length,
      slots: this.#slots.length * this.#perWorker,
      busy: this.#slots.reduce((n, s) => n + s.jobs.size, 0),
      queued: this.#queue.length,
      maxQueue: this.#maxQueue,
    };
  }

  /** Starts a job; throws QUEUE_FULL at once when it would have to wait in a full queue. */
  run(request: Req, signal?: AbortSignal): AsyncIterableIterator<Ev> {
    if (this.#closed) throw new PadtError(ErrorCode.QUEUE_FULL, "the engine is shutting down");
    signal?.throwIfAborted();
    const idle = this.#slots.some((s) => s.jobs.size < this.#perWorker);
    if (!idle && this.#queue.length >= this.#maxQueue) {
      throw new PadtError(
        ErrorCode.QUEUE_FULL,
        `the generation queue is full (${this.#maxQueue} waiting)`,
        {
          queued: this.#queue.length,
          maxQueue: this.#maxQueue,
        },
      );
    }
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const abort = () => this.#cancel(job);
    const job: Job<Req, Ev> = {
      id: this.#nextId++,
      request,
      cancel,
      channel: new Channel<Ev>(() => abort()),
      detach: () => signal?.removeEventListener("abort", abort),
    };
    signal?.addEventListener("abort", abort, { once: true });
    this.#queue.push(job);
    this.#dispatch();
    return job.channel;
  }

  /** Refuses new jobs, fails queued ones, lets running ones finish, then stops the workers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.detach();
      job.channel.fail(new PadtError(ErrorCode.GENERATION_CANCELLED, "the engine shut down"));
    }
    await Promise.all(
      this.#slots.map(async (slot) => {
        while (slot.jobs.size > 0) await new Promise((r) => setTimeout(r, 10));
        await slot.worker.terminate();
      }),
    );
    this.#slots.length = 0;
  }

  #cancel(job: Job<Req, Ev>): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      job.detach();
      job.channel.fail(
        new PadtError(ErrorCode.GENERATION_CANCELLED, "cancelled before it started"),
      );
      return;
    }
    Atomics.store(job.cancel, 0, 1);
  }

  /** Each queued job to the least loaded worker with room (jobs spread before they batch). */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot: Slot<Req, Ev> | undefined;
      for (const s of this.#slots)
        if (s.jobs.size < this.#perWorker && (!slot || s.jobs.size < slot.jobs.size)) slot = s;
      if (!slot) return;
      const job = this.#queue.shift() as Job<Req, Ev>;
      slot.jobs.set(job.id, job);
      const message: ToWorker<Req> = {
        type: "job",
        id: job.id,
        request: job.request,
        cancel: job.cancel.buffer,
      };
      slot.worker.postMessage(message);
    }
  }

  /** Ends one job (`id`), or every job of the worker (it crashed or exited). */
  #finish(slot: Slot<Req, Ev>, id: number | undefined, error?: Error): void {
    const jobs = id === undefined ? [...slot.jobs.values()] : [slot.jobs.get(id)];
    for (const job of jobs) {
      if (!job) continue;
      slot.jobs.delete(job.id);
      job.detach();
      if (error) job.channel.fail(error);
      else job.channel.end();
    }
    if (!this.#closed) this.#dispatch();
  }

  #spawn(): Promise<void> {
    const { entry } = this.options;
    const script = entry.pathname.endsWith(".ts")
      ? new URL("./ts-worker-bootstrap.mjs", import.meta.url)
      : entry;
    const worker = new Worker(script, {
      workerData: { entry: entry.href, data: this.options.workerData },
    });
    const slot: Slot<Req, Ev> = { worker, jobs: new Map() };
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (message: FromWorker<Ev>) => {
        switch (message.type) {
          case "ready":
            ready = true;
            this.#info ??= message.info;
            this.#slots.push(slot);
            resolve();
            this.#dispatch();
            return;
          case "init-failed":
            reject(deserializeError(message.error));
            void worker.terminate();
            return;
          case "events": {
            for (const { id, events } of message.jobs) {
              const job = slot.jobs.get(id);
              if (job) for (const e of events) job.channel.push(e);
            }
            return;
          }
          case "end":
            this.#finish(slot, message.id);
            return;
          case "error":
            this.#finish(slot, message.id, deserializeError(message.error));
            return;
          default:
            message satisfies never;
        }
      });
      worker.on("error", (error) => {
        if (!ready) reject(error);
        this.#finish(slot, undefined, error);
      });
      worker.on("exit", (code) => {
        const index = this.#slots.indexOf(slot);
        if (index >= 0) this.#slots.splice(index, 1);
        if (!ready) return;
        this.#finish(slot, undefined, new Error(`model worker exited with code ${code}`));
        // A crashed worker is replaced so the pool keeps its size.
        if (!this.#closed) this.#spawn().catch(() => {});
      });
    });
  }
}
