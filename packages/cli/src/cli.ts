import { join } from "node:path";
import { type ExecutionProvider, isPadtError, PadtEngine } from "@padt/engine";
import {
  connect,
  createApiKey,
  createOwner,
  DbError,
  DbErrorCode,
  type Gateway,
  isDbError,
  LOCAL_KEY_FILE,
  loadConfig,
  migrate,
  startGateway,
  watchTerminationSignals,
} from "@padt/gateway";
import { type Io, modelPath, stdio, UsageError } from "./commands/common.js";
import { EVAL_USAGE, evaluate } from "./commands/eval.js";
import { RUN_USAGE, run } from "./commands/run.js";

const USAGE = `Usage:
  padt serve [--port N] [--host H] [--data-dir DIR] [--database-url URL] [--model DIR]
             [--provider cpu|cuda|webgpu] [--threads N] [--workers N] [--task MODULE]...
             [--config FILE]
  padt keys create [--name NAME] [--data-dir DIR] [--database-url URL]
${RUN_USAGE}
${EVAL_USAGE}

Without --database-url (or DATABASE_URL) the database is PGlite in <data-dir>/db, and the
first \`padt serve\` prints a local API key and saves it to <data-dir>/${LOCAL_KEY_FILE}.`;

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
  let engine: PadtEngine | undefined;
  let gateway: Gateway | undefined;
  try {
    engine = await PadtEngine.load({
      bundle: modelPath(config),
      provider: config.provider as ExecutionProvider,
      fallback: "cpu",
      ...(config.threads ? { threads: config.threads } : {}),
      ...(config.workers ? { workers: config.workers } : {}),
      imageLimits: { maxBytes: config.limits.imageBytes, maxPixels: config.limits.imagePixels },
    });
    if (engine.info.fallbackReason) io.err(`running on CPU: ${engine.info.fallbackReason}`);
    gateway = await startGateway({ engine, config, print: io.out });
    io.out(
      `PaDT Studio gateway on ${gateway.url}/graphql (model ${engine.info.name}, ${engine.info.executionProvider})`,
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

async function keysCreate(argv: string[], io: Io): Promise<number> {
  const at = argv.indexOf("--name");
  const name = at >= 0 ? argv[at + 1] : "cli";
  if (!name) throw new Error("--name needs a value");
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  const config = loadConfig(rest);
  const handle = await connect(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: join(config.dataDir, "db") },
  ).catch((error: unknown) => {
    if (!isDbError(error, DbErrorCode.DATA_DIR_LOCKED)) throw error;
    // Talking to the running server instead would need an admin API; refusing is safe.
    throw new DbError(
      DbErrorCode.DATA_DIR_LOCKED,
      `${error.message}. \`padt keys create\` writes to the embedded database, which a running \`padt serve\` holds: stop the server first, or use its local key (${join(config.dataDir, LOCAL_KEY_FILE)})`,
    );
  });
  try {
    await migrate(handle);
    const owner = await createOwner(handle.db, name);
    const { key } = await createApiKey(handle.db, owner.id);
    io.out(key);
    io.err(`owner ${owner.id} ("${name}"): the key is shown once; the database keeps its hash`);
    return 0;
  } finally {
    await handle.close();
  }
}

const COMMANDS = {
  serve,
  run,
  eval: evaluate,
  keys: (argv: string[], io: Io) => {
    const [sub, ...rest] = argv;
    if (sub === "create") return keysCreate(rest, io);
    io.err(USAGE);
    return Promise.resolve(2);
  },
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
