/**
 * API keys: made, found, listed, revoked, rotated. A key's plaintext exists only in what
 * createApiKey / rotateApiKey return; the table keeps its sha256 and a short prefix.
 * "Now" is the database's clock in every comparison, so replicas (and the CLI in another
 * process) agree on when a key expired.
 */
import { randomBytes } from "node:crypto";
import { ErrorCode } from "@padt/protocol";
import { and, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError, pgErrorOf } from "../errors.js";
import { sha256Hex } from "../hash.js";
import { isUuid } from "../ids.js";
import { prepared } from "../prepared.js";
import { type ApiKey, apiKeys, type Owner, owners } from "../schema.js";

/** Keys look like `padt_<43 base64url chars>` (256 random bits). */
const KEY_PREFIX = "padt_";
/** How much of a key is kept in clear, for people to recognise it in a list. */
const VISIBLE_CHARS = KEY_PREFIX.length + 6;

/** A key as people see it: everything but its hash, with its owner's name. */
export type ApiKeyInfo = Omit<ApiKey, "keyHash"> & { ownerName: string };

export interface NewKeyOptions {
  /** A label for the key ("ci", "laptop"). */
  name?: string;
  /** After this instant the key is refused; absent: it never expires. */
  expiresAt?: Date;
}

/**
 * A key is 256 random bits, so a plain sha256 is enough to store it: there is nothing
 * to brute-force, and lookup stays one indexed equality (no per-key salt to try).
 */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** Not revoked and not expired, by the database's clock. */
const isActive = () =>
  and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)));

/** Makes a key for an owner. The plaintext is in the result and nowhere else, ever. */
export async function createApiKey(
  db: Database,
  ownerId: string,
  options: NewKeyOptions = {},
): Promise<{ key: string; apiKey: ApiKey }> {
  if (!isUuid(ownerId)) throw new DbError(ErrorCode.NOT_FOUND, "Owner not found");
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  try {
    const [apiKey] = await db
      .insert(apiKeys)
      .values({
        ownerId,
        keyHash: hashApiKey(key),
        prefix: key.slice(0, VISIBLE_CHARS),
        name: options.name ?? null,
        expiresAt: options.expiresAt ?? null,
      })
      .returning();
    return { key, apiKey: apiKey! };
  } catch (error) {
    if (pgErrorOf(error)?.code === "23503")
      throw new DbError(ErrorCode.NOT_FOUND, "Owner not found");
    throw error;
  }
}

/** The active key a presented plaintext is, with its owner; undefined for unknown, revoked or expired keys. */
export async function findApiKey(
  db: Database,
  key: string,
): Promise<{ owner: Owner; apiKey: ApiKey } | undefined> {
  const [row] = await prepared(db, "find_api_key", (on, name) =>
    on
      .select({ owner: owners, apiKey: apiKeys })
      .from(apiKeys)
      .innerJoin(owners, eq(owners.id, apiKeys.ownerId))
      .where(and(eq(apiKeys.keyHash, sql.placeholder("keyHash")), isActive()))
      .limit(1)
      .prepare(name),
  ).execute({ keyHash: hashApiKey(key) });
  return row;
}

/** The owner a key was issued to, whether or not it still works; undefined for unknown keys. */
export async function issuedTo(db: Database, key: string): Promise<Owner | undefined> {
  const [row] = await db
    .select({ owner: owners })
    .from(apiKeys)
    .innerJoin(owners, eq(owners.id, apiKeys.ownerId))
    .where(eq(apiKeys.keyHash, hashApiKey(key)))
    .limit(1);
  return row?.owner;
}

/** The owner a presented key belongs to; undefined for unknown, revoked or expired keys. */
export async function findOwnerByApiKey(db: Database, key: string): Promise<Owner | undefined> {
  return (await findApiKey(db, key))?.owner;
}

/**
 * Records that a key was used now, unless the stored time is younger than `resolutionMs`:
 * a busy key costs one write per resolution period, not one per request, and the condition
 * in the statement keeps replicas that race from writing twice.
 */
export async function touchApiKey(
  db: Database,
  keyId: string,
  resolutionMs: number,
): Promise<void> {
  const stale = sql`now() - make_interval(secs => ${resolutionMs / 1000})`;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, stale))),
    );
}

/** Of `ids`, those of keys still active (one query, whatever the number of ids). */
export async function activeApiKeyIds(db: Database, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(inArray(apiKeys.id, [...ids]), isActive()));
  return new Set(rows.map((r) => r.id));
}

const infoColumns = {
  id: apiKeys.id,
  ownerId: apiKeys.ownerId,
  prefix: apiKeys.prefix,
  name: apiKeys.name,
  createdAt: apiKeys.createdAt,
  revokedAt: apiKeys.revokedAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  ownerName: owners.name,
};

/** Every key (of one owner, if given), oldest first; never a hash. */
export async function listApiKeys(
  db: Database,
  filter: { ownerId?: string } = {},
): Promise<ApiKeyInfo[]> {
  if (filter.ownerId !== undefined && !isUuid(filter.ownerId)) return [];
  return db
    .select(infoColumns)
    .from(apiKeys)
    .innerJoin(owners, eq(owners.id, apiKeys.ownerId))
    .where(filter.ownerId ? eq(apiKeys.ownerId, filter.ownerId) : undefined)
    .orderBy(apiKeys.createdAt, apiKeys.id);
}

async function getApiKeyInfo(db: Database, keyId: string): Promise<ApiKeyInfo> {
  const [row] = isUuid(keyId)
    ? await db
        .select(infoColumns)
        .from(apiKeys)
        .innerJoin(owners, eq(owners.id, apiKeys.ownerId))
        .where(eq(apiKeys.id, keyId))
    : [];
  if (!row) throw new DbError(ErrorCode.NOT_FOUND, `No API key with id ${keyId}`);
  return row;
}

/**
 * Revokes a key at once. Revoking a revoked key keeps its first revocation time (`revoked`
 * false); an unknown id is NOT_FOUND. Returns the key as it is afterwards.
 */
export async function revokeApiKey(
  db: Database,
  keyId: string,
): Promise<{ apiKey: ApiKeyInfo; revoked: boolean }> {
  const rows = isUuid(keyId)
    ? await db
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id })
    : [];
  return { apiKey: await getApiKeyInfo(db, keyId), revoked: rows.length > 0 };
}

/**
 * A new key for the same owner (same name), in one transaction with the end of the old one:
 * revoked at once, or, with `graceMs`, set to expire that long from now (or earlier, if it
 * already expired sooner), so clients can switch over. A revoked or expired key can be
 * rotated too: that is how an owner whose key leaked gets a new one.
 */
export async function rotateApiKey(
  db: Database,
  keyId: string,
  options: { graceMs?: number; expiresAt?: Date } = {},
): Promise<{ key: string; apiKey: ApiKey; old: ApiKeyInfo }> {
  return db.transaction(async (tx) => {
    const old = await getApiKeyInfo(tx, keyId);
    const created = await createApiKey(tx, old.ownerId, {
      ...(old.name !== null ? { name: old.name } : {}),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    });
    if (options.graceMs) {
      const end = sql`now() + make_interval(secs => ${options.graceMs / 1000})`;
      await tx
        .update(apiKeys)
        .set({ expiresAt: sql`least(coalesce(${apiKeys.expiresAt}, ${end}), ${end})` })
        .where(eq(apiKeys.id, keyId));
    } else {
      await tx
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
    }
    return { ...created, old: await getApiKeyInfo(tx, keyId) };
  });
}
