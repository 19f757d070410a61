import { resolve } from "node:path";
import type { ChatTurn, GenerateOptions, GenerationEvent, GenerationResult } from "@padt/protocol";
import { ErrorCode, PadtError } from "@padt/protocol";
import type { ExecutionProvider, FallbackPolicy } from "../backend/ort.js";
import { type BundleVerification, bundleBytes, loadManifest } from "../bundle/load.js";
import type { PadtManifest } from "../bundle/manifest.js";
import type { EngineClient, InspectedImage, ModelInfo } from "../client.js";
import { collectResult } from "../generation/collect.js";
import type { ImageLimits } from "../image/types.js";
import { type AdmissionOrder, DEFAULT_POLICY } from "../models/padt/step_scheduler.js";
import { EVENT_INTERVAL_MS } from "../runtime/event_batch.js";
import { type PoolStats, WorkerPool } from "../runtime/pool.js";
import { checkWorkerMemory } from "./capacity.js";
import { describeModel, inspectForModel } from "./model_view.js";
import type { PadtJob, PadtWorkerData, PadtWorkerInfo } from "./worker_data.js";

/** Generations per worker: 8 concurrent answers on one worker is issue 17's target. */
export const DEFAULT_MAX_BATCH = 8;

export interface EngineOptions {
  /** Directory of a PaDT bundle (padt.json and the graphs). */
  bundle: string;
  /** Default cpu. */
  provider?: ExecutionProvider;
  /** When the provider cannot start: "error" (default) or run on "cpu" and report why. */
  fallback?: FallbackPolicy;
  /** onnxruntime intra-op threads per worker; default onnxruntime's (all cores). */
  threads?: number;
  /** Model workers, each with its own copy of the graphs. Default 1; more than fit in memory are refused. */
  workers?: number;
  /** Generations each worker runs at once, their decode steps batched into one LLM call. Default 8. */
  maxBatch?: number;
  /**
   * Newcomers' image encodes and prefills against the batch's decode steps: "prefill-first"
   * (default: the batch waits, then steps at its full size) or "interleaved" (one newcomer call
   * between two steps).
   */
  admission?: AdmissionOrder;
  /** Prompt tokens per prefill call (chunked prefill); default 0: the whole prompt in one call. */
  prefillChunk?: number;
  /**
   * The PaDT decoder (box, mask, score per object) on a thread of its own beside each worker,
   * so its runs overlap the batch's steps instead of stalling them. Default true.
   */
  decoderThread?: boolean;
  /**
   * Least time between two messages of a worker's events (ms; default 2, EVENT_INTERVAL_MS):
   * events that come sooner ride in the next message. 0: one message per decode step.
   */
  eventIntervalMs?: number;
  /** Generations that may wait for a worker. Default 16. */
  maxQueue?: number;
  /** onnxruntime's load-time repacking of MatMul weights (SessionOptions.prepackWeights); default true. */
  prepackWeights?: boolean;
  /** Checks at load: "full" hashes every file, "size" only compares sizes; default "auto" (full up to 1 GiB). */
  verify?: BundleVerification;
  imageLimits?: ImageLimits;
  /** The PaDT demo's pre-resize of the long side; undefined: the bundle's default; null: off. */
  longSide?: number | null;
  /** Prompt plus answer tokens; default 8192. */
  maxContextTokens?: number;
  /** Memory per worker for repeated images (preprocessed pixels, vision outputs). Default 256 MiB. */
  cacheBytes?: number;
}

/**
 * A loaded PaDT bundle. Model work runs in worker threads behind a bounded queue, so a
 * server hosting the engine keeps answering while a generation runs; several generate()
 * calls may run at once, and no call sees another's images.
 */
export class PadtEngine implements EngineClient {
  private constructor(
    readonly manifest: PadtManifest,
    readonly info: ModelInfo,
    private readonly pool: WorkerPool<PadtJob, GenerationEvent>,
    private readonly options: EngineOptions,
  ) {}

  static async load(options: EngineOptions): Promise<PadtEngine> {
    checkScheduling(options);
    const bundle = resolve(options.bundle);
    const manifest = await loadManifest(bundle, options.verify ?? "auto");
    const cacheBytes = options.cacheBytes ?? 256 * 1024 * 1024;
    checkWorkerMemory({
      workers: options.workers ?? 1,
      bundleBytes: bundleBytes(manifest),
      cacheBytes,
    });
    const workerData: PadtWorkerData = {
      bundle,
      manifest,
      session: {
        provider: options.provider ?? "cpu",
        fallback: options.fallback ?? "error",
        ...(options.threads ? { intraOpThreads: options.threads } : {}),
        ...(options.prepackWeights === false ? { prepackWeights: false } : {}),
      },
      imageLimits: options.imageLimits ?? {},
      longSide: options.longSide,
      maxContextTokens: options.maxContextTokens ?? 8192,
      cacheBytes,
      scheduler: {
        admission: options.admission ?? DEFAULT_POLICY.admission,
        chunkTokens: options.prefillChunk ?? DEFAULT_POLICY.chunkTokens,
      },
      decoderThread: options.decoderThread ?? true,
      eventIntervalMs: options.eventIntervalMs ?? EVENT_INTERVAL_MS,
    };
    // Built code starts worker.js; tests run from sources, where the pool goes through tsx.
    const entry = new URL(
      import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js",
      import.meta.url,
    );
    const pool = await WorkerPool.start<PadtJob, GenerationEvent>({
      entry,
      workerData,
      size: options.workers ?? 1,
      perWorker: options.maxBatch ?? DEFAULT_MAX_BATCH,
      maxQueue: options.maxQueue ?? 16,
    });
    const worker = pool.workerInfo as PadtWorkerInfo;
    const info = describeModel(manifest, worker.provider, worker.fallbackReason);
    return new PadtEngine(manifest, info, pool, options);
  }

  inspectImage(bytes: Uint8Array): Promise<InspectedImage> {
    return inspectForModel(bytes, this.manifest, this.options);
  }

  generate(
    turns: readonly ChatTurn[],
    options: GenerateOptions = {},
  ): AsyncIterable<GenerationEvent> {
    const { signal, ...rest } = options;
    return this.pool.run({ turns, options: rest }, signal);
  }

  /** generate() gathered into one result (the events' text, objects and usage). */
  async run(turns: readonly ChatTurn[], options: GenerateOptions = {}): Promise<GenerationResult> {
    return collectResult(this.generate(turns, options));
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The scheduling options, checked before a worker starts (its scheduler would only throw there). */
function checkScheduling(options: EngineOptions): void {
  const { admission, prefillChunk } = options;
  if (admission !== undefined && admission !== "prefill-first" && admission !== "interleaved")
    throw new PadtError(
      ErrorCode.OPTIONS_INVALID,
      `admission must be "prefill-first" or "interleaved" (got ${String(admission)})`,
    );
  if (prefillChunk !== undefined && !(Number.isInteger(prefillChunk) && prefillChunk >= 0))
    throw new PadtError(
      ErrorCode.OPTIONS_INVALID,
      `prefillChunk must be a non-negative integer (got ${prefillChunk})`,
    );
  const { eventIntervalMs } = options;
  if (eventIntervalMs !== undefined && !(Number.isFinite(eventIntervalMs) && eventIntervalMs >= 0))
    throw new PadtError(
      ErrorCode.OPTIONS_INVALID,
      `eventIntervalMs must be a non-negative number (got ${eventIntervalMs})`,
    );
}
