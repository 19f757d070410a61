import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics served at /metrics (a gateway's port, or `padt worker --metrics-port`);
 * one registry per process, so tests stay isolated.
 */
export function createMetrics() {
  const registry = new Registry();
  /** Where the queue depth is read at each scrape, when it lives in the database. */
  let depthSource: (() => Promise<number>) | undefined;
  return {
    registry,
    queueDepth: new Gauge({
      name: "padt_generation_queue_depth",
      help: "Generations waiting for a worker (with the job queue: its jobs not claimed yet, all replicas)",
      registers: [registry],
      async collect() {
        if (depthSource) this.set(await depthSource());
      },
    }),
    /** The queue depth is the job queue's, read at each scrape (gateway and worker roles). */
    readQueueDepthFrom(source: () => Promise<number>): void {
      depthSource = source;
    },
    leaseRenewals: new Counter({
      name: "padt_lease_renewals_total",
      help: "Lease renewals of running answers, per answer: kept, lost (finished elsewhere) or failed (database unreachable)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    claimLatency: new Histogram({
      name: "padt_job_claim_latency_seconds",
      help: "From a generation job's enqueueing to its claim by this worker",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    running: new Gauge({
      name: "padt_generations_running",
      help: "Generations running now",
      registers: [registry],
    }),
    generatedTokens: new Counter({
      name: "padt_generated_tokens_total",
      help: "Tokens generated",
      registers: [registry],
    }),
    decodeTokensPerSecond: new Histogram({
      name: "padt_decode_tokens_per_second",
      help: "Decode speed of finished generations",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    generations: new Counter({
      name: "padt_generations_total",
      help: "Finished generations by outcome",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    timeToFirstEvent: new Histogram({
      name: "padt_time_to_first_event_seconds",
      help: "From sendMessage to the first streamed event",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "padt_graphql_request_duration_seconds",
      help: "GraphQL HTTP request latency by operation type",
      labelNames: ["operation"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
