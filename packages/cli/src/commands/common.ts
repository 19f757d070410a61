/** What the CLI's commands share: output, the bundle to load, the engine and the task list. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type EngineOptions, type ExecutionProvider, PadtEngine } from "@padt/engine";
import type { GatewayConfig } from "@padt/gateway";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Raw stderr when it is a terminal (progress bars redraw with \r); absent otherwise. */
  errTty?: (text: string) => void;
}

export const stdio: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  ...(process.stderr.isTTY ? { errTty: (t: string) => process.stderr.write(t) } : {}),
};

/** A mistake in the command line: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The repository's models/ folder (src/commands and dist/commands are three levels below). */
const MODELS = fileURLToPath(new URL("../../../../models", import.meta.url));

/** --model, else the bundle shipped in models/ (the first folder holding a padt.json). */
export function modelPath(config: GatewayConfig): string {
  if (config.modelPath) return config.modelPath;
  const shipped = existsSync(MODELS)
    ? readdirSync(MODELS).find((d) => existsSync(join(MODELS, d, "padt.json")))
    : undefined;
  if (shipped) return join(MODELS, shipped);
  throw new Error(`no model bundle: pass --model DIR or set PADT_MODEL (none found in ${MODELS})`);
}

/** The engine's options from the configuration (serve, worker, run and eval alike). */
export function engineOptions(config: GatewayConfig): EngineOptions {
  return {
    bundle: modelPath(config),
    provider: config.provider as ExecutionProvider,
    fallback: "cpu",
    ...(config.threads ? { threads: config.threads } : {}),
    ...(config.workers ? { workers: config.workers } : {}),
    ...(config.batch ? { maxBatch: config.batch } : {}),
    ...(config.verify ? { verify: config.verify } : {}),
    ...(config.weights === "mapped" ? { prepackWeights: false } : {}),
    imageLimits: { maxBytes: config.limits.imageBytes, maxPixels: config.limits.imagePixels },
  };
}

/** The engine for a one-shot command (run, eval): one worker, the configured bundle. */
export async function loadEngine(
  config: GatewayConfig,
  io: Io,
  threads?: number,
): Promise<PadtEngine> {
  const { workers: _oneAnswerAtATime, ...options } = engineOptions(config);
  const engine = await PadtEngine.load({ ...options, ...(threads ? { threads } : {}) });
  if (engine.info.fallbackReason) io.err(`running on CPU: ${engine.info.fallbackReason}`);
  return engine;
}

/** A flag's value as a positive integer, or a usage error naming the flag. */
export function positiveIntFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Node's parseArgs, with its complaints (unknown flag, missing value) as usage errors. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The configuration flags every command takes, passed on to loadConfig. */
export const CONFIG_FLAGS = {
  config: { type: "string" },
  model: { type: "string" },
  provider: { type: "string" },
  task: { type: "string", multiple: true },
} as const;

export function configArgv(values: {
  config?: string;
  model?: string;
  provider?: string;
  task?: string[];
}): string[] {
  const argv: string[] = [];
  if (values.config) argv.push("--config", values.config);
  if (values.model) argv.push("--model", values.model);
  if (values.provider) argv.push("--provider", values.provider);
  for (const t of values.task ?? []) argv.push("--task", t);
  return argv;
}
