import type { Usage } from "@padt/engine";
import type { Outcome } from "../db/repos/transitions.js";
import type { Metrics } from "../server/metrics.js";
import type { Running } from "./job.js";

/** The running and queue-depth gauges: jobs on an engine worker, and the others held. */
export function updateGauges(
  metrics: Metrics | undefined,
  running: Iterable<Running>,
  held: number,
): void {
  if (!metrics) return;
  const serving = [...running].filter((r) => r.slot).length;
  metrics.running.set(serving);
  metrics.queueDepth.set(Math.max(0, held - serving));
}

/** Counts a finished generation, its tokens and its decode speed. */
export function recordGeneration(
  metrics: Metrics | undefined,
  /** `interrupted`: handed back at a worker's shutdown (its recovery ended it). */
  status: Outcome["status"] | "interrupted",
  usage: Usage | undefined,
): void {
  metrics?.generations.inc({ status });
  if (metrics && usage) {
    metrics.generatedTokens.inc(usage.completionTokens);
    if (usage.decodeMs > 0)
      metrics.decodeTokensPerSecond.observe((usage.completionTokens * 1000) / usage.decodeMs);
  }
}
