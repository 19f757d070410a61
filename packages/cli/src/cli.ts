import { type EngineClient, ModelInspector, PadtEngine } from "@padt/engine";
import {
  type Gateway,
  isDbError,
  LOCAL_KEY_FILE,
  loadConfig,
  startGateway,
  watchTerminationSignals,
} from "@padt/gateway";
import { isPadtError } from "@padt/protocol";
import { engineOptions, type Io, stdio, UsageError } from "./commands/common.js";
import { EVAL_USAGE, evaluate } from "./commands/eval.js";
import { KEYS_USAGE, keys } from "./commands/keys.js";
import { RUN_USAGE, run } from "./commands/run.js";
import { WORKER_USAGE, worker } from "./commands/worker.js";

const USAGE = `Usage:
  padt serve [--port N] [--host H] [--data-dir DIR] [--database-url URL] [--model DIR]
             [--provider cpu|cuda|webgpu] [--threads N] [--workers N] [--batch N] [--task MODULE]...
             [--verify full|size|auto] [--weights packed|mapped] [--config FILE]
             [--role all|gateway]
${WORKER_USAGE}
${KEYS_USAGE}
${RUN_USAGE}
${EVAL_USAGE}

Without --database-url (or DATABASE_URL) the database is PGlite in <data-dir>/db, and the
first \`padt serve\` prints a local API key and saves it to <data-dir>/${LOCAL_KEY_FILE}.
On PostgreSQL, \`--role gateway\` replicas serve GraphQL and \`padt worker\` processes generate.`;

/**
 * Serves until SIGTERM or SIGINT, then drains (gateway.close()) and returns 0, so the process
 * ends with status 0. The handlers are installed first: a signal during start-up (model load,
 * migrations) lets start-up finish, then drains, instead of killing the process mid-write.
 */
async function serve(argv: string[], io: Io): Promise<number> {
  const config = loadConfig(argv);
  const signals = watchTerminationSignals((signal) =>
    io.err(`${signal}: already draining (up to ${config.drainMs} ms); SIGKILL stops at once`),
  );
  let engine: EngineClient | undefined;
  let gateway: Gateway | undefined;
  if (config.role !== "all" && !config.databaseUrl)
    throw new UsageError(
      `--role ${config.role} needs a PostgreSQL server (--database-url or DATABASE_URL); the embedded database serves one process, which runs --role all`,
    );
  try {
    const { bundle, imageLimits } = engineOptions(config);
    // A gateway replica reads the model's description and image grids only; workers run it.
    engine =
      config.role === "gateway"
        ? await ModelInspector.load({ bundle, ...(imageLimits ? { imageLimits } : {}) })
        : await PadtEngine.load(engineOptions(config));
    if (engine.info.fallbackReason) io.err(`running on CPU: ${engine.info.fallbackReason}`);
    gateway = await startGateway({ engine, config, print: io.out });
    io.out(
      config.role === "gateway"
        ? `PaDT Studio gateway on ${gateway.url}/graphql (role gateway, model ${engine.info.name} on padt worker)`
        : `PaDT Studio gateway on ${gateway.url}/graphql (model ${engine.info.name}, ${engine.info.executionProvider})`,
    );
    const signal = await signals.received;
    io.err(`${signal}: draining (up to ${config.drainMs} ms)`);
    await gateway.close();
    io.err("drained; stopped");
    return 0;
  } finally {
    // Whatever failed (a busy port, a locked data directory), nothing may keep the process up.
    await gateway?.close();
    await engine?.close();
    signals.dispose();
  }
}

const COMMANDS = {
  serve,
  run,
  eval: evaluate,
  keys,
  worker,
} satisfies Record<string, (argv: string[], io: Io) => Promise<number>>;

export type { Io };

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help" || !(command in COMMANDS)) {
    (command && command !== "--help" && command !== "help" ? io.err : io.out)(USAGE);
    return command && command !== "--help" && command !== "help" ? 2 : 0;
  }
  try {
    return await COMMANDS[command as keyof typeof COMMANDS](rest, io);
  } catch (error) {
    const code = isPadtError(error) || isDbError(error) ? `${error.code}: ` : "";
    io.err(`padt ${command}: ${code}${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) {
      io.err(USAGE);
      return 2;
    }
    return 1;
  }
}
