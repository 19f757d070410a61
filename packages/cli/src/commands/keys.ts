/**
 * `padt keys create | list | revoke | rotate`: key management straight on the database (the
 * same one `padt serve` uses). A key's plaintext is printed once, by create and rotate, on
 * stdout alone; lists show its prefix. A running gateway refuses a revoked or expired key on
 * its next HTTP request and closes its open WebSockets (4401) within PADT_KEY_CHECK_MS.
 */
import { join } from "node:path";
import {
  type ApiKeyInfo,
  connect,
  createApiKey,
  createOwner,
  type DatabaseHandle,
  DbError,
  type GatewayConfig,
  isDbError,
  LOCAL_KEY_FILE,
  listApiKeys,
  loadConfig,
  migrate,
  revokeApiKey,
  rotateApiKey,
} from "@padt/gateway";
import { ErrorCode } from "@padt/protocol";
import { type Io, parseFlags, UsageError } from "./common.js";
import { durationFlag } from "./duration.js";

export const KEYS_USAGE = `  padt keys create [--name NAME] [--owner OWNER_ID] [--expires-in 30d] [DB]
  padt keys list [--owner OWNER_ID] [--json] [DB]
  padt keys revoke KEY_ID [DB]
  padt keys rotate KEY_ID [--grace 10m] [--expires-in 30d] [DB]
             DB: [--data-dir DIR] [--database-url URL] [--config FILE]; durations: N s|m|h|d`;

const DB_FLAGS = {
  "data-dir": { type: "string" },
  "database-url": { type: "string" },
  config: { type: "string" },
} as const;

function configOf(values: { "data-dir"?: string; "database-url"?: string; config?: string }) {
  const argv: string[] = [];
  if (values.config) argv.push("--config", values.config);
  if (values["data-dir"]) argv.push("--data-dir", values["data-dir"]);
  if (values["database-url"]) argv.push("--database-url", values["database-url"]);
  return loadConfig(argv);
}

/**
 * The configured database, migrated. Embedded PGlite allows one process: while `padt serve`
 * holds it, every keys command refuses (DATA_DIR_LOCKED) and writes nothing. Talking to the
 * running server instead would need an admin API, which the owner-only auth model lacks.
 */
async function openKeysDatabase(config: GatewayConfig, sub: string): Promise<DatabaseHandle> {
  const handle = await connect(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: join(config.dataDir, "db") },
  ).catch((error: unknown) => {
    if (!isDbError(error, ErrorCode.DATA_DIR_LOCKED)) throw error;
    throw new DbError(
      ErrorCode.DATA_DIR_LOCKED,
      `${error.message}. \`padt keys ${sub}\` opens the embedded database, which a running \`padt serve\` holds: stop the server first${sub === "create" ? `, or use its local key (${join(config.dataDir, LOCAL_KEY_FILE)})` : ""}`,
    );
  });
  try {
    await migrate(handle);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function withDatabase<T>(
  config: GatewayConfig,
  sub: string,
  work: (handle: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const handle = await openKeysDatabase(config, sub);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

const later = (ms: number | undefined) =>
  ms === undefined ? undefined : new Date(Date.now() + ms);
const time = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, "Z") : "-");

/** active, revoked or expired, as of now. */
export function keyStatus(key: ApiKeyInfo, now = Date.now()): "active" | "revoked" | "expired" {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt.getTime() <= now) return "expired";
  return "active";
}

async function create(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...DB_FLAGS,
    name: { type: "string" },
    owner: { type: "string" },
    "expires-in": { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const expiresAt = later(durationFlag("expires-in", values["expires-in"]));
  const name = values.name ?? "cli";
  return withDatabase(configOf(values), "create", async ({ db }) => {
    const owner = values.owner
      ? { id: values.owner, name: undefined }
      : await createOwner(db, name);
    const { key, apiKey } = await createApiKey(db, owner.id, {
      name,
      ...(expiresAt ? { expiresAt } : {}),
    });
    io.out(key);
    const whose = owner.name === undefined ? `owner ${owner.id}` : `owner ${owner.id} ("${name}")`;
    const until = apiKey.expiresAt ? `, expires ${time(apiKey.expiresAt)}` : "";
    io.err(
      `key ${apiKey.id} for ${whose}${until}: the key is shown once; the database keeps its hash`,
    );
    return 0;
  });
}

const COLUMNS = [
  "ID",
  "PREFIX",
  "NAME",
  "OWNER",
  "STATUS",
  "CREATED",
  "EXPIRES",
  "LAST USED",
  "REVOKED",
];

function rowOf(k: ApiKeyInfo, now: number): string[] {
  return [
    k.id,
    k.prefix,
    k.name ?? "-",
    `${k.ownerId} (${k.ownerName})`,
    keyStatus(k, now),
    time(k.createdAt),
    time(k.expiresAt),
    time(k.lastUsedAt),
    time(k.revokedAt),
  ];
}

function jsonOf(k: ApiKeyInfo, now: number) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: k.id,
    prefix: k.prefix,
    name: k.name,
    ownerId: k.ownerId,
    ownerName: k.ownerName,
    status: keyStatus(k, now),
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

async function list(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...DB_FLAGS,
    owner: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const keys = await withDatabase(configOf(values), "list", ({ db }) =>
    listApiKeys(db, values.owner ? { ownerId: values.owner } : {}),
  );
  const now = Date.now();
  if (values.json) {
    io.out(
      JSON.stringify(
        keys.map((k) => jsonOf(k, now)),
        null,
        2,
      ),
    );
    return 0;
  }
  const rows = [COLUMNS, ...keys.map((k) => rowOf(k, now))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    io.out(
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
  return 0;
}

function keyIdOf(positionals: string[], sub: string): string {
  const [id, extra] = positionals;
  if (!id) throw new UsageError(`padt keys ${sub} needs the key's id (see padt keys list)`);
  if (extra) throw new UsageError(`unexpected argument "${extra}"`);
  return id;
}

async function revoke(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, DB_FLAGS);
  const id = keyIdOf(positionals, "revoke");
  const { apiKey: key, revoked } = await withDatabase(configOf(values), "revoke", ({ db }) =>
    revokeApiKey(db, id),
  );
  io.out(
    `${revoked ? "revoked" : "already revoked"}: key ${key.id} (${key.prefix}…) of owner ${key.ownerId} at ${time(key.revokedAt)}`,
  );
  return 0;
}

async function rotate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...DB_FLAGS,
    grace: { type: "string" },
    "expires-in": { type: "string" },
  });
  const id = keyIdOf(positionals, "rotate");
  const graceMs = durationFlag("grace", values.grace);
  const expiresAt = later(durationFlag("expires-in", values["expires-in"]));
  const rotated = await withDatabase(configOf(values), "rotate", ({ db }) =>
    rotateApiKey(db, id, { ...(graceMs ? { graceMs } : {}), ...(expiresAt ? { expiresAt } : {}) }),
  );
  io.out(rotated.key);
  const { old, apiKey } = rotated;
  const fate = old.revokedAt
    ? `revoked ${time(old.revokedAt)}`
    : `still works until ${time(old.expiresAt)}`;
  io.err(
    `key ${apiKey.id} for owner ${apiKey.ownerId} replaces ${old.id} (${fate}): the new key is shown once`,
  );
  return 0;
}

const SUBCOMMANDS = { create, list, revoke, rotate } satisfies Record<
  string,
  (argv: string[], io: Io) => Promise<number>
>;

/** `padt keys <sub> ...`; an unknown or missing subcommand is a usage error. */
export function keys(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || !Object.hasOwn(SUBCOMMANDS, sub))
    return Promise.reject(
      new UsageError(sub ? `unknown keys subcommand "${sub}"` : "padt keys needs a subcommand"),
    );
  return SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS](rest, io);
}
