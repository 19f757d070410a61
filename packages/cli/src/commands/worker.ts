/**
 * `padt worker`: an inference worker for the scale-out topology. It loads the model, claims
 * generation jobs from the durable queue on PostgreSQL (only jobs for its model) and serves
 * no GraphQL; `padt serve --role gateway` replicas on the same database take the requests.
 */
import { PadtEngine } from "@padt/engine";
import {
  createLogger,
  loadConfig,
  startWorker,
  type Worker,
  watchTerminationSignals,
} from "@padt/gateway";
import { engineOptions, type Io, UsageError } from "./common.js";

export const WORKER_USAGE = `  padt worker --database-url URL [--model DIR] [--provider cpu|cuda|webgpu] [--threads N]
             [--workers N] [--batch N] [--verify full|size|auto] [--weights packed|mapped]
             [--task MODULE]... [--config FILE] [--metrics-port N [--host ADDR]]`;

export async function worker(argv: string[], io: Io): Promise<number> {
  const config = loadConfig(argv);
  if (config.role !== "all") throw new UsageError("padt worker takes no --role");
  if (!config.databaseUrl)
    throw new UsageError(
      "padt worker needs a PostgreSQL server (--database-url or DATABASE_URL): it takes its jobs from the queue there",
    );
  const signals = watchTerminationSignals((signal) =>
    io.err(`${signal}: already draining (up to ${config.drainMs} ms); SIGKILL stops at once`),
  );
  let engine: PadtEngine | undefined;
  let running: Worker | undefined;
  try {
    engine = await PadtEngine.load(engineOptions(config));
    if (engine.info.fallbackReason) io.err(`running on CPU: ${engine.info.fallbackReason}`);
    running = await startWorker({ engine, config, logger: createLogger() });
    io.out(
      `PaDT Studio worker for model ${running.model} (${engine.info.executionProvider}, ${engine.stats().workers} engine workers)`,
    );
    if (running.metricsUrl) io.out(`metrics on ${running.metricsUrl}/metrics`);
    const signal = await signals.received;
    io.err(`${signal}: draining (up to ${config.drainMs} ms)`);
    await running.close();
    io.err("drained; stopped");
    return 0;
  } finally {
    await running?.close();
    await engine?.close();
    signals.dispose();
  }
}
