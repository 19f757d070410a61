import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

/** Limits on what one client may ask of the server; each refusal has its error code (ERRORS.md). */
export interface Limits {
  /** Largest HTTP request body (GraphQL POST, image upload), bytes: BODY_TOO_LARGE (413). */
  bodyBytes: number;
  /** Largest image file, bytes: IMAGE_TOO_LARGE. */
  imageBytes: number;
  /** Largest image, width * height, read from the header before decoding: IMAGE_TOO_MANY_PIXELS. */
  imagePixels: number;
  /** Longest text of one message, characters: TEXT_TOO_LONG. */
  textLength: number;
  /** Most parts in one message: TOO_MANY_PARTS. */
  partsPerMessage: number;
  /** Generations one owner may have queued or running: TOO_MANY_GENERATIONS. */
  generationsPerOwner: number;
  /**
   * Generations queued or running in this process: QUEUE_FULL (with retryAfterMs). Clients back
   * on a retry hint whose completion came late may exceed it by PROMISE_SLACK (retry_hint.ts).
   */
  queueLength: number;
  /** graphql-armor limits, on HTTP and WebSocket alike. */
  queryDepth: number;
  queryCost: number;
  queryAliases: number;
  queryTokens: number;
  /** Active subscriptions on one WebSocket: TOO_MANY_SUBSCRIPTIONS. */
  subscriptionsPerSocket: number;
  /** Active subscriptions of one owner on all its WebSockets: TOO_MANY_SUBSCRIPTIONS. */
  subscriptionsPerOwner: number;
  /** Open WebSockets of one owner; one more is closed with 1013 at connection_init. */
  socketsPerOwner: number;
  /** Largest WebSocket message (ws maxPayload), bytes. */
  wsPayloadBytes: number;
  /** Largest maxNewTokens a client may ask for. */
  maxNewTokens: number;
}

export interface GatewayConfig {
  port: number;
  host: string;
  /** Embedded database and the local API key file live here. */
  dataDir: string;
  /** PostgreSQL server; unset: embedded PGlite in `<dataDir>/db`. */
  databaseUrl?: string;
  /** Model bundle directory (models/<name>/). */
  modelPath?: string;
  /** Execution provider asked of the engine (cpu, cuda, webgpu). */
  provider: string;
  /** onnxruntime intra-op threads per engine worker; unset: the cores minus one. */
  threads?: number;
  /** Engine worker threads, each with its own copy of the model; unset: 1. */
  workers?: number;
  /** Answers each engine worker runs at once, decode steps batched; unset: the engine's (8). */
  batch?: number;
  /** Bundle checks at load: full (hashes), size, or auto (hashes up to 1 GiB); unset: auto. */
  verify?: BundleCheck;
  /**
   * MatMul weights repacked by onnxruntime at load ("packed", the default) or left where the
   * weights file is memory-mapped ("mapped": ready in seconds, a tied weight held once, slower
   * prefill; 3B rehearsal: ready 2.8 s against 22.6 s, prefill 1.9x slower).
   */
  weights?: WeightLayout;
  /**
   * Task plugin modules, each with the plugin as its default export. Adding a task is one
   * more entry here (PADT_TASKS=@padt/tasks-count, or `tasks` in the config file).
   */
  tasks: string[];
  limits: Limits;
  /** After SIGTERM, how long running generations may go on before they are cancelled, ms. */
  drainMs: number;
  /** How long a generation goes on after its last messageEvents subscriber left, ms. */
  cancelGraceMs: number;
  /**
   * How often the keys behind open WebSockets are checked again, ms: a socket whose key was
   * revoked or expired (by any process on the database) is closed with 4401 within this.
   */
  keyCheckMs: number;
  /**
   * `padt serve --role`: "all" (GraphQL and the engine in one process, the default and the
   * only role on embedded PGlite) or "gateway" (GraphQL only; `padt worker` processes on the
   * same PostgreSQL generate the answers).
   */
  role: ServeRole;
  /**
   * On PostgreSQL, how long a running answer's lease lasts, ms: its process renews it every
   * third of this; an answer whose lease ran out (its process died) ends INTERRUPTED.
   */
  leaseMs: number;
  /** Production: hides schema details (field suggestions) and introspection. */
  production: boolean;
  /**
   * `Authorization: Bearer <token>` that opens /metrics from anywhere. Unset: /metrics answers
   * loopback clients only (and not requests relayed by a proxy, which carry X-Forwarded-For).
   */
  metricsToken?: string;
  /**
   * `padt worker` only: the port of its own small HTTP server with /metrics (same access rule
   * as the gateway's) and /healthz, on `host`. Unset: no server. A gateway serves /metrics on
   * its own port.
   */
  metricsPort?: number;
}

export const SERVE_ROLES = ["all", "gateway"] as const;
export type ServeRole = (typeof SERVE_ROLES)[number];

export const SHIPPED_TASKS = [
  "@padt/tasks-rec",
  "@padt/tasks-res",
  "@padt/tasks-ovd",
  "@padt/tasks-ric",
] as const;

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 16 * MiB,
  imageBytes: 10 * MiB,
  // 16 MP: more than any phone photo needs once the model's own cap (about 12.8 MP) applies,
  // and far below sharp's default of about 268 MP.
  imagePixels: 16_000_000,
  textLength: 8000,
  partsPerMessage: 32,
  generationsPerOwner: 4,
  queueLength: 64,
  // A history page down to a reference's image is 8 levels; from `sessions`, 10.
  queryDepth: 12,
  // graphql-armor's cost grows with depth (x1.5 a level): a chat client's history page
  // (messages, parts, refs, images, task results) costs about 26,000.
  queryCost: 50_000,
  queryAliases: 15,
  queryTokens: 1000,
  subscriptionsPerSocket: 32,
  subscriptionsPerOwner: 64,
  socketsPerOwner: 16,
  wsPayloadBytes: 1 * MiB,
  maxNewTokens: 4096,
};

export function defaultConfig(): GatewayConfig {
  return {
    port: 4000,
    host: "127.0.0.1",
    dataDir: join(homedir(), ".padt"),
    provider: "cpu",
    tasks: [...SHIPPED_TASKS],
    limits: { ...DEFAULT_LIMITS },
    drainMs: 30_000,
    cancelGraceMs: 10_000,
    role: "all",
    leaseMs: 30_000,
    keyCheckMs: 2000,
    production: false,
  };
}

const LIMIT_ENV: Record<keyof Limits, string> = {
  bodyBytes: "PADT_MAX_BODY_BYTES",
  imageBytes: "PADT_MAX_IMAGE_BYTES",
  imagePixels: "PADT_MAX_IMAGE_PIXELS",
  textLength: "PADT_MAX_TEXT_LENGTH",
  partsPerMessage: "PADT_MAX_PARTS",
  generationsPerOwner: "PADT_MAX_GENERATIONS_PER_OWNER",
  queueLength: "PADT_MAX_QUEUE",
  queryDepth: "PADT_MAX_QUERY_DEPTH",
  queryCost: "PADT_MAX_QUERY_COST",
  queryAliases: "PADT_MAX_QUERY_ALIASES",
  queryTokens: "PADT_MAX_QUERY_TOKENS",
  subscriptionsPerSocket: "PADT_MAX_SUBSCRIPTIONS",
  subscriptionsPerOwner: "PADT_MAX_SUBSCRIPTIONS_PER_OWNER",
  socketsPerOwner: "PADT_MAX_SOCKETS_PER_OWNER",
  wsPayloadBytes: "PADT_MAX_WS_PAYLOAD",
  maxNewTokens: "PADT_MAX_NEW_TOKENS",
};

function positiveInt(name: string, value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${String(value)}`);
  return n;
}

function atLeast(name: string, value: unknown, min: number): number {
  const n = positiveInt(name, value);
  if (n < min) throw new Error(`${name} must be at least ${min}, got ${n}`);
  return n;
}

const BUNDLE_CHECKS = ["full", "size", "auto"] as const;
export type BundleCheck = (typeof BUNDLE_CHECKS)[number];

const WEIGHT_LAYOUTS = ["packed", "mapped"] as const;
export type WeightLayout = (typeof WEIGHT_LAYOUTS)[number];

function weightLayout(name: string, value: string): WeightLayout {
  if (!(WEIGHT_LAYOUTS as readonly string[]).includes(value))
    throw new Error(`${name} must be one of ${WEIGHT_LAYOUTS.join(", ")}, got "${value}"`);
  return value as WeightLayout;
}

function bundleCheck(name: string, value: string): BundleCheck {
  if (!(BUNDLE_CHECKS as readonly string[]).includes(value))
    throw new Error(`${name} must be one of ${BUNDLE_CHECKS.join(", ")}, got "${value}"`);
  return value as BundleCheck;
}

function serveRole(name: string, value: string): ServeRole {
  if (!(SERVE_ROLES as readonly string[]).includes(value))
    throw new Error(`${name} must be one of ${SERVE_ROLES.join(", ")}, got "${value}"`);
  return value as ServeRole;
}

/** A config file: JSON with any of GatewayConfig's fields (limits may be partial). */
type FileConfig = Partial<Omit<GatewayConfig, "limits">> & { limits?: Partial<Limits> };

function merge(base: GatewayConfig, over: FileConfig): GatewayConfig {
  const { limits, ...rest } = over;
  const out: GatewayConfig = { ...base, ...rest, limits: { ...base.limits } };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!(key in LIMIT_ENV)) throw new Error(`unknown limit "${key}"`);
    out.limits[key as keyof Limits] = positiveInt(`limits.${key}`, value);
  }
  return out;
}

/**
 * The configuration, lowest precedence first: defaults, the JSON file (`--config` or
 * PADT_CONFIG), environment variables, command-line flags. Unknown flags and limit names
 * are refused, so a typo never silently keeps a default.
 */
export function loadConfig(
  argv: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      model: { type: "string" },
      provider: { type: "string" },
      threads: { type: "string" },
      workers: { type: "string" },
      batch: { type: "string" },
      verify: { type: "string" },
      weights: { type: "string" },
      task: { type: "string", multiple: true },
      role: { type: "string" },
      "metrics-port": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  let config = defaultConfig();
  const file = values.config ?? env.PADT_CONFIG;
  if (file) config = merge(config, JSON.parse(readFileSync(file, "utf8")) as FileConfig);

  const fromEnv: FileConfig = { limits: {} };
  if (env.PORT) fromEnv.port = positiveInt("PORT", env.PORT);
  if (env.HOST) fromEnv.host = env.HOST;
  if (env.PADT_DATA_DIR) fromEnv.dataDir = env.PADT_DATA_DIR;
  if (env.DATABASE_URL) fromEnv.databaseUrl = env.DATABASE_URL;
  if (env.PADT_MODEL) fromEnv.modelPath = env.PADT_MODEL;
  if (env.PADT_PROVIDER) fromEnv.provider = env.PADT_PROVIDER;
  if (env.PADT_THREADS) fromEnv.threads = positiveInt("PADT_THREADS", env.PADT_THREADS);
  if (env.PADT_WORKERS) fromEnv.workers = positiveInt("PADT_WORKERS", env.PADT_WORKERS);
  if (env.PADT_BATCH) fromEnv.batch = atLeast("PADT_BATCH", env.PADT_BATCH, 1);
  if (env.PADT_VERIFY) fromEnv.verify = bundleCheck("PADT_VERIFY", env.PADT_VERIFY);
  if (env.PADT_WEIGHTS) fromEnv.weights = weightLayout("PADT_WEIGHTS", env.PADT_WEIGHTS);
  if (env.PADT_DRAIN_MS) fromEnv.drainMs = positiveInt("PADT_DRAIN_MS", env.PADT_DRAIN_MS);
  if (env.PADT_CANCEL_GRACE_MS)
    fromEnv.cancelGraceMs = positiveInt("PADT_CANCEL_GRACE_MS", env.PADT_CANCEL_GRACE_MS);
  if (env.PADT_KEY_CHECK_MS) {
    fromEnv.keyCheckMs = positiveInt("PADT_KEY_CHECK_MS", env.PADT_KEY_CHECK_MS);
    if (fromEnv.keyCheckMs === 0) throw new Error("PADT_KEY_CHECK_MS must be at least 1");
  }
  if (env.PADT_ROLE) fromEnv.role = serveRole("PADT_ROLE", env.PADT_ROLE);
  if (env.PADT_LEASE_MS) fromEnv.leaseMs = atLeast("PADT_LEASE_MS", env.PADT_LEASE_MS, 100);
  if (env.NODE_ENV === "production") fromEnv.production = true;
  if (env.PADT_METRICS_TOKEN) fromEnv.metricsToken = env.PADT_METRICS_TOKEN;
  if (env.PADT_METRICS_PORT)
    fromEnv.metricsPort = positiveInt("PADT_METRICS_PORT", env.PADT_METRICS_PORT);
  for (const [key, name] of Object.entries(LIMIT_ENV)) {
    if (env[name]) (fromEnv.limits as Record<string, number>)[key] = positiveInt(name, env[name]);
  }
  config = merge(config, fromEnv);
  // Extra plugins are added to the shipped ones (PADT_TASKS is a comma-separated list).
  const extra = [...(env.PADT_TASKS?.split(",") ?? []), ...(values.task ?? [])]
    .map((s) => s.trim())
    .filter(Boolean);
  config.tasks = [...new Set([...config.tasks, ...extra])];

  if (values.port) config.port = positiveInt("--port", values.port);
  if (values.host) config.host = values.host;
  if (values["data-dir"]) config.dataDir = values["data-dir"];
  if (values["database-url"]) config.databaseUrl = values["database-url"];
  if (values.model) config.modelPath = values.model;
  if (values.provider) config.provider = values.provider;
  if (values.threads) config.threads = positiveInt("--threads", values.threads);
  if (values.workers) config.workers = positiveInt("--workers", values.workers);
  if (values.batch) config.batch = atLeast("--batch", values.batch, 1);
  if (values.verify) config.verify = bundleCheck("--verify", values.verify);
  if (values.weights) config.weights = weightLayout("--weights", values.weights);
  if (values["metrics-port"])
    config.metricsPort = positiveInt("--metrics-port", values["metrics-port"]);
  config.role = values.role ? serveRole("--role", values.role) : serveRole("role", config.role);
  config.dataDir = resolve(config.dataDir);
  return config;
}
