import type { EngineClient } from "@padt/engine";
import type { TaskRegistry } from "@padt/task-api";
import { type Bus, createBus } from "../bus.js";
import type { GatewayConfig } from "../config.js";
import type { DatabaseHandle } from "../db/database.js";
import { recoverInterrupted } from "../db/recover.js";
import type { Generations } from "../generation/generations.js";
import { sweepExpiredLeases } from "../generation/lease_sweep.js";
import { GenerationRunner } from "../generation/runner.js";
import { createNotifyBus } from "../notify_bus.js";
import { installQueue, waitingJobs } from "../queue/graphile.js";
import { QueuedGenerations } from "../queue/queued_generations.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** How this process takes part: its bus, who runs its answers, and what to stop at shutdown. */
export interface Topology {
  bus: Bus;
  runner: Generations;
  /** After the runner drained: stops the lease sweep and the bus. */
  close(): Promise<void>;
}

export interface TopologyOptions {
  config: Pick<GatewayConfig, "role" | "limits" | "cancelGraceMs" | "leaseMs">;
  handle: DatabaseHandle;
  /** The PostgreSQL URL, when known: needed for LISTEN/NOTIFY and the job queue. */
  url?: string;
  engine: EngineClient;
  tasks: TaskRegistry;
  metrics?: Metrics;
  logger?: Logger;
}

/** Presence heartbeats as often as lease renewals, at most every 5 s. */
export function presenceHeartbeatMs(leaseMs: number): number {
  return Math.max(100, Math.min(5000, Math.floor(leaseMs / 3)));
}

/**
 * The runner that generates here (`--role all`, and `padt worker`): on PostgreSQL its answers
 * hold leases and its replica announces its subscribers.
 */
export function createLocalRunner(
  options: Pick<TopologyOptions, "handle" | "engine" | "tasks" | "metrics" | "logger"> & {
    config: Pick<GatewayConfig, "limits" | "cancelGraceMs" | "leaseMs">;
    bus: Bus;
    leased: boolean;
    /** Ends an answer given up at shutdown as a dead worker's is ended (`padt worker`). */
    handBack?: (messageId: string) => Promise<unknown>;
  },
): GenerationRunner {
  const { config, handle, engine, tasks, bus, leased, metrics, logger, handBack } = options;
  return new GenerationRunner({
    db: handle.db,
    engine,
    tasks,
    bus,
    limits: config.limits,
    cancelGraceMs: config.cancelGraceMs,
    ...(leased
      ? { leaseMs: config.leaseMs, presenceHeartbeatMs: presenceHeartbeatMs(config.leaseMs) }
      : {}),
    ...(metrics ? { metrics } : {}),
    ...(logger ? { logger } : {}),
    ...(handBack ? { handBack } : {}),
  });
}

/** A role that cannot run on this database (gateway on embedded PGlite, say). */
export class RoleError extends Error {
  override name = "RoleError";
}

/**
 * Embedded PGlite (one process, `--role all` only): the in-memory bus, no leases, and every
 * unfinished answer left by a previous run is interrupted at start-up.
 *
 * PostgreSQL: the bus is LISTEN/NOTIFY (when the URL is known), held answers carry leases,
 * start-up recovery and a periodic sweep interrupt only answers whose lease expired, so
 * another replica starting never touches running ones. `--role all` runs answers here;
 * `--role gateway` puts them on the durable job queue for `padt worker`.
 */
export async function wireTopology(options: TopologyOptions): Promise<Topology> {
  const { config, handle, url, engine, logger } = options;
  const shared = handle.kind === "postgres";
  if (config.role !== "all" && !(shared && url)) {
    throw new RoleError(
      `--role ${config.role} needs a PostgreSQL server (DATABASE_URL or --database-url): the embedded database serves one process, which runs --role all`,
    );
  }
  const recovered = await recoverInterrupted(handle.db, {
    unleased: !shared,
    leaseMs: config.leaseMs,
  });
  if (recovered.length > 0)
    logger?.warn({ count: recovered.length }, "marked interrupted generations");
  const notify = shared && url ? createNotifyBus(url, logger) : undefined;
  await notify?.ready;
  const bus: Bus = notify ?? createBus();
  // Before the sweep, which removes dead workers' jobs from the queue's tables.
  if (config.role === "gateway" && url) await installQueue(handle, url);
  const sweep = shared
    ? sweepExpiredLeases({
        db: handle.db,
        bus,
        everyMs: config.leaseMs / 2,
        leaseMs: config.leaseMs,
        queued: config.role === "gateway",
        ...(logger ? { logger } : {}),
      })
    : undefined;
  let runner: Generations;
  if (config.role === "gateway" && url) {
    options.metrics?.readQueueDepthFrom(() => waitingJobs(handle.db, engine.info.name));
    runner = new QueuedGenerations({
      db: handle.db,
      bus,
      model: engine.info.name,
      heartbeatMs: presenceHeartbeatMs(config.leaseMs),
      leaseMs: config.leaseMs,
      limits: config.limits,
    });
  } else {
    runner = createLocalRunner({ ...options, bus, leased: shared });
  }
  return {
    bus,
    runner,
    async close() {
      sweep?.stop();
      await notify?.close();
    },
  };
}
