/**
 * A model worker's PaDT decoder on a thread of its own (decoder_thread.ts): its runs overlap
 * the batch's decode steps, where in the worker's thread (inThreadDecoder) every run stalls all
 * members' next token for its length.
 */
import { Worker } from "node:worker_threads";
import type { SessionOptions } from "../backend/ort.js";
import type { PadtManifest } from "../bundle/manifest.js";
import type { ObjectDecoder, ObjectGeometry } from "../models/padt/decode_object.js";
import type { EncodedImage } from "../models/padt/model.js";
import { deserializeError } from "../runtime/errors_wire.js";
import type { SerializedError } from "../runtime/protocol.js";

export interface DecoderThreadData {
  bundle: string;
  manifest: PadtManifest;
  session: SessionOptions;
}

/** The image fields the decoder graph reads. */
type DecoderImage = Pick<
  EncodedImage,
  "grid" | "units" | "prototypes" | "highRes" | "cos" | "sin" | "rowOfCell"
>;

export interface DecoderRequest {
  id: number;
  features: Float32Array;
  image: DecoderImage;
  size: { width: number; height: number };
}

export type DecoderReply =
  | { type: "ready" }
  | { type: "init-failed"; error: SerializedError }
  | { type: "decoded"; id: number; out: ObjectGeometry }
  | { type: "failed"; id: number; error: SerializedError };

/** A copy in shared memory: posting it to the decoder thread then copies nothing. */
function shared<T extends Float32Array | BigInt64Array>(array: T): T {
  const Kind = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new Kind(new SharedArrayBuffer(array.byteLength));
  (out as Float32Array).set(array as Float32Array);
  return out;
}

/**
 * The decoder thread, restarted when it dies: its answers in flight fail with the reason, and
 * the next object starts a new thread rather than every later answer failing too.
 */
export class DecoderThread implements ObjectDecoder {
  readonly offThread = true;
  readonly #pending = new Map<
    number,
    { resolve: (out: ObjectGeometry) => void; reject: (e: Error) => void }
  >();
  /** Each image's decoder inputs in shared memory, made once per image. */
  readonly #images = new WeakMap<EncodedImage, DecoderImage>();
  #nextId = 1;
  #worker: Worker | undefined;
  #starting: Promise<Worker> | undefined;
  #closed = false;
  /** Threads started, the first included. */
  starts = 0;

  private constructor(private readonly data: DecoderThreadData) {}

  static async start(data: DecoderThreadData): Promise<DecoderThread> {
    const thread = new DecoderThread(data);
    thread.#worker = await thread.#spawn();
    return thread;
  }

  #spawn(): Promise<Worker> {
    this.starts++;
    // Built code starts decoder_thread.js; from sources (tests) it goes through tsx.
    const fromSource = import.meta.url.endsWith(".ts");
    const entry = new URL(
      fromSource ? "./decoder_thread.ts" : "./decoder_thread.js",
      import.meta.url,
    );
    const script = fromSource
      ? new URL("../runtime/ts-worker-bootstrap.mjs", import.meta.url)
      : entry;
    const worker = new Worker(script, { workerData: { entry: entry.href, data: this.data } });
    worker.on("message", (reply: DecoderReply) => {
      if (reply.type !== "decoded" && reply.type !== "failed") return;
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.type === "decoded") pending?.resolve(reply.out);
      else pending?.reject(deserializeError(reply.error));
    });
    worker.on("error", (error) => this.#lost(worker, error));
    worker.on("exit", (code) =>
      this.#lost(worker, new Error(`the decoder thread exited with code ${code}`)),
    );
    return new Promise((resolve, reject) => {
      const onReady = (reply: DecoderReply) => {
        if (reply.type === "ready") {
          worker.off("message", onReady);
          resolve(worker);
        } else if (reply.type === "init-failed") {
          worker.off("message", onReady);
          reject(deserializeError(reply.error));
          void worker.terminate();
        }
      };
      worker.on("message", onReady);
      worker.once("error", reject);
    });
  }

  /** Every object in flight fails with the thread; the next one starts a new thread. */
  #lost(worker: Worker, error: Error): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  async #running(): Promise<Worker> {
    if (this.#worker) return this.#worker;
    if (this.#closed) throw new Error("the decoder thread is closed");
    this.#starting ??= this.#spawn()
      .then((worker) => {
        this.#worker = worker;
        return worker;
      })
      .finally(() => {
        this.#starting = undefined;
      });
    return this.#starting;
  }

  async decodeObject(
    features: Float32Array,
    image: EncodedImage,
    size: { width: number; height: number },
  ): Promise<ObjectGeometry> {
    const worker = await this.#running();
    let sent = this.#images.get(image);
    if (!sent) {
      sent = {
        grid: image.grid,
        units: image.units,
        prototypes: shared(image.prototypes),
        highRes: shared(image.highRes),
        cos: shared(image.cos),
        sin: shared(image.sin),
        rowOfCell: shared(image.rowOfCell),
      };
      this.#images.set(image, sent);
    }
    const id = this.#nextId++;
    // Named fields only: a caller's size object may carry more (a ConversationImage, say), and
    // postMessage would clone all of it.
    const request: DecoderRequest = {
      id,
      features,
      image: sent,
      size: { width: size.width, height: size.height },
    };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  /** Stops the thread (the test of a restart uses it as a crash). */
  terminate(): Promise<number> {
    return this.#worker?.terminate() ?? Promise.resolve(0);
  }

  close(): Promise<number> {
    this.#closed = true;
    return this.terminate();
  }
}
