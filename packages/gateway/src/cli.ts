import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ExecutionProvider, PadtEngine } from "@padt/engine";
import { LOCAL_KEY_FILE } from "./auth.js";
import { type GatewayConfig, loadConfig } from "./config.js";
import { connect } from "./db/connect.js";
import { migrate } from "./db/migrate.js";
import { createApiKey, createOwner } from "./db/repos/owners.js";
import { startGateway } from "./server/gateway.js";

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const stdio: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

const USAGE = `Usage:
  padt serve [--port N] [--host H] [--data-dir DIR] [--database-url URL] [--model DIR]
             [--provider cpu|cuda|webgpu] [--task MODULE]... [--config FILE]
  padt keys create [--name NAME] [--data-dir DIR] [--database-url URL]

Without --database-url (or DATABASE_URL) the database is PGlite in <data-dir>/db, and the
first \`padt serve\` prints a local API key and saves it to <data-dir>/${LOCAL_KEY_FILE}.`;

/** The repository's models/ folder (src/ and dist/ are both two levels below the package). */
const MODELS = fileURLToPath(new URL("../../../models", import.meta.url));
/**
 * Until the trained Shapes model ships in models/ (issue 4), a checkout has only the tiny
 * random bundle the exporter tests use: it runs the whole platform for real, but its
 * answers are noise, and serve says so.
 */
const FIXTURE = fileURLToPath(new URL("../../../tests/fixtures/padt-tiny-random", import.meta.url));

/** --model, else the bundle shipped in models/ (the first folder holding a padt.json). */
function modelPath(config: GatewayConfig, io: Io): string {
  if (config.modelPath) return config.modelPath;
  const shipped = existsSync(MODELS)
    ? readdirSync(MODELS).find((d) => existsSync(join(MODELS, d, "padt.json")))
    : undefined;
  if (shipped) return join(MODELS, shipped);
  if (existsSync(join(FIXTURE, "padt.json"))) {
    io.err(
      "no trained model in models/ yet: serving the random-weight test bundle (answers are noise; pass --model DIR for a real one)",
    );
    return FIXTURE;
  }
  throw new Error(`no model bundle: pass --model DIR or set PADT_MODEL (none found in ${MODELS})`);
}

async function serve(argv: string[], io: Io): Promise<number> {
  const config = loadConfig(argv);
  const engine = await PadtEngine.load({
    bundle: modelPath(config, io),
    provider: config.provider as ExecutionProvider,
    fallback: "cpu",
    imageLimits: { maxBytes: config.limits.imageBytes, maxPixels: config.limits.imagePixels },
  });
  if (engine.info.fallbackReason) io.err(`running on CPU: ${engine.info.fallbackReason}`);
  const gateway = await startGateway({ engine, config, print: io.out });
  io.out(
    `PaDT Studio gateway on ${gateway.url}/graphql (model ${engine.info.name}, ${engine.info.executionProvider})`,
  );
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      io.err(`${signal}: draining (up to ${config.drainMs} ms)`);
      gateway
        .close()
        .then(() => engine.close())
        .then(
          () => resolve(0),
          (error: unknown) => {
            io.err(String(error));
            resolve(1);
          },
        );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

async function keysCreate(argv: string[], io: Io): Promise<number> {
  const at = argv.indexOf("--name");
  const name = at >= 0 ? argv[at + 1] : "cli";
  if (!name) throw new Error("--name needs a value");
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
  const config = loadConfig(rest);
  const handle = await connect(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: join(config.dataDir, "db") },
  );
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

/** `padt run` and `padt eval` join this table (issue 7 and the eval issue). */
const COMMANDS = {
  serve,
  keys: (argv: string[], io: Io) => {
    const [sub, ...rest] = argv;
    if (sub === "create") return keysCreate(rest, io);
    io.err(USAGE);
    return Promise.resolve(2);
  },
} satisfies Record<string, (argv: string[], io: Io) => Promise<number>>;

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "help" || !(command in COMMANDS)) {
    (command && command !== "--help" && command !== "help" ? io.err : io.out)(USAGE);
    return command && command !== "--help" && command !== "help" ? 2 : 0;
  }
  try {
    return await COMMANDS[command as keyof typeof COMMANDS](rest, io);
  } catch (error) {
    io.err(`padt ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
