import { totalmem } from "node:os";
import { ErrorCode, PadtError } from "@padt/protocol";

/**
 * What one engine worker holds: its own onnxruntime sessions, so the bundle's bytes again (the
 * 3B rehearsal, bench/full-scale: 17.6 GB resident for a 15.4 GB fp32 bundle, 1.14x; int8 and
 * int4 1.06-1.08x), plus its image cache.
 */
const SESSION_OVERHEAD = 1.15;
/** Share of the machine's memory the workers may take; the rest is the process, the OS, PostgreSQL. */
const MEMORY_SHARE = 0.85;

export interface WorkerMemory {
  workers: number;
  bundleBytes: number;
  cacheBytes: number;
  /** The machine's memory; default os.totalmem(). */
  totalBytes?: number;
}

/** The most workers whose copies of the bundle fit in memory (at least 1). */
export function workersThatFit(m: Omit<WorkerMemory, "workers">): number {
  const perWorker = m.bundleBytes * SESSION_OVERHEAD + m.cacheBytes;
  const budget = (m.totalBytes ?? totalmem()) * MEMORY_SHARE;
  return Math.max(1, Math.floor(budget / perWorker));
}

/**
 * Refuses, before any worker starts, more workers than the machine can hold copies of the model
 * for: a 15 GB bundle fits once on a 24 GB machine, and the second copy would only be found out
 * by the kernel's OOM killer mid-answer. One worker is always allowed (swap, a larger machine
 * than reported to a container).
 */
export function checkWorkerMemory(m: WorkerMemory): void {
  const fit = workersThatFit(m);
  if (m.workers <= fit) return;
  const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
  throw new PadtError(
    ErrorCode.WORKERS_EXCEED_MEMORY,
    `${m.workers} engine workers, each with its own copy of a ${gb(m.bundleBytes)} bundle, do not fit in this machine's ${gb(m.totalBytes ?? totalmem())}: use --workers ${fit} (PADT_WORKERS) or fewer`,
    { workers: m.workers, maxWorkers: fit, bundleBytes: m.bundleBytes },
  );
}
