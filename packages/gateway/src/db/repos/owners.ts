import { randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../database.js";
import { DbError, DbErrorCode, pgErrorOf } from "../errors.js";
import { sha256Hex } from "../hash.js";
import { isUuid } from "../ids.js";
import { type ApiKey, apiKeys, type Owner, owners } from "../schema.js";

/** Keys look like `padt_<43 base64url chars>` (256 random bits). */
const KEY_PREFIX = "padt_";
/** How much of a key is kept in clear, for people to recognise it in a list. */
const VISIBLE_CHARS = KEY_PREFIX.length + 6;

/**
 * A key is 256 random bits, so a plain sha256 is enough to store it: there is nothing
 * to brute-force, and lookup stays one indexed equality (no per-key salt to try).
 */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

export async function createOwner(db: Database, name: string): Promise<Owner> {
  const [owner] = await db.insert(owners).values({ name }).returning();
  return owner!;
}

/** Makes a key for an owner. The plaintext is in the result and nowhere else, ever. */
export async function createApiKey(
  db: Database,
  ownerId: string,
): Promise<{ key: string; apiKey: ApiKey }> {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  try {
    const [apiKey] = await db
      .insert(apiKeys)
      .values({ ownerId, keyHash: hashApiKey(key), prefix: key.slice(0, VISIBLE_CHARS) })
      .returning();
    return { key, apiKey: apiKey! };
  } catch (error) {
    if (pgErrorOf(error)?.code === "23503")
      throw new DbError(DbErrorCode.NOT_FOUND, "Owner not found");
    throw error;
  }
}

/** The owner a presented key belongs to; undefined for unknown or revoked keys. */
export async function findOwnerByApiKey(db: Database, key: string): Promise<Owner | undefined> {
  const [row] = await db
    .select({ owner: owners })
    .from(apiKeys)
    .innerJoin(owners, eq(owners.id, apiKeys.ownerId))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row?.owner;
}

export async function listApiKeys(db: Database, ownerId: string): Promise<ApiKey[]> {
  return db.select().from(apiKeys).where(eq(apiKeys.ownerId, ownerId)).orderBy(apiKeys.createdAt);
}

export async function revokeApiKey(db: Database, ownerId: string, keyId: string): Promise<boolean> {
  if (!isUuid(keyId)) return false;
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.ownerId, ownerId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
