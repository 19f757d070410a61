import type { ChatTurn, GenerateOptions } from "@padt/protocol";
import type { SessionOptions } from "../backend/ort.js";
import type { PadtManifest } from "../bundle/manifest.js";
import type { ImageLimits } from "../image/types.js";
import type { SchedulerPolicy } from "../models/padt/step_scheduler.js";

/** What every model worker starts with (structured-clone data). */
export interface PadtWorkerData {
  bundle: string;
  manifest: PadtManifest;
  session: SessionOptions;
  imageLimits: ImageLimits;
  /** undefined: the bundle's default; null: no pre-resize. */
  longSide: number | null | undefined;
  maxContextTokens: number;
  /** Bytes of preprocessed pixels and vision outputs kept for repeated images. */
  cacheBytes: number;
  /** How newcomers' encodes and prefills are ordered against the batch's steps. */
  scheduler: SchedulerPolicy;
  /** Runs the PaDT decoder on a thread of its own. */
  decoderThread: boolean;
  /** Least time between two messages of the worker's events (ms). */
  eventIntervalMs: number;
}

export interface PadtJob {
  turns: readonly ChatTurn[];
  options: Omit<GenerateOptions, "signal">;
}

export interface PadtWorkerInfo {
  provider: "cpu" | "cuda" | "webgpu";
  fallbackReason?: string;
}
