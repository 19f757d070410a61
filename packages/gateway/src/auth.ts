import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Database } from "./db/database.js";
import {
  createApiKey,
  findApiKey,
  findOwnerByApiKey,
  issuedTo,
  touchApiKey,
} from "./db/repos/api_keys.js";
import { createOwner } from "./db/repos/owners.js";
import type { Owner } from "./db/schema.js";

/** The key in `Authorization: Bearer <key>` (a bare key is accepted too, for graphql-ws params). */
export function keyFromAuthorization(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/** How fresh a key's stored last-used time is kept: at most one write per key this often. */
export const KEY_USE_RESOLUTION_MS = 60_000;

/** Who a presented key is: its owner, and the key's id (to re-check it while a socket is open). */
export interface KeyIdentity {
  owner: Owner;
  keyId: string;
}

/**
 * The owner and key id of a presented key; undefined when missing, unknown, revoked or
 * expired. Records the use when the stored last-used time is older than
 * KEY_USE_RESOLUTION_MS, so a busy key costs one extra write a minute, not one per request.
 */
export async function authenticateKey(
  db: Database,
  authorization: unknown,
): Promise<KeyIdentity | undefined> {
  const key = keyFromAuthorization(authorization);
  if (!key || key.length > 200) return undefined;
  const found = await findApiKey(db, key);
  if (!found) return undefined;
  const { lastUsedAt, id } = found.apiKey;
  if (!lastUsedAt || Date.now() - lastUsedAt.getTime() >= KEY_USE_RESOLUTION_MS)
    await touchApiKey(db, id, KEY_USE_RESOLUTION_MS);
  return { owner: found.owner, keyId: id };
}

/** The owner of a presented key; undefined when missing, unknown, revoked or expired. */
export async function authenticate(
  db: Database,
  authorization: unknown,
): Promise<Owner | undefined> {
  return (await authenticateKey(db, authorization))?.owner;
}

export const LOCAL_KEY_FILE = "local-api-key";

/**
 * Embedded mode: the first start creates a "local" owner with a key, prints it once, and
 * writes it to `<dataDir>/local-api-key` (mode 0600) so that the `padt` CLI and the
 * playground on localhost can read it. The database keeps only its hash. Later starts find
 * the file and a key that still works, and do nothing. A revoked or expired local key is
 * replaced by a new key for the same owner: the sessions stay theirs (a new owner would
 * orphan them), and the old key stays refused.
 */
export async function ensureLocalKey(
  db: Database,
  dataDir: string,
  print: (line: string) => void,
): Promise<{ key: string; created: boolean }> {
  const file = join(dataDir, LOCAL_KEY_FILE);
  const existing = await readFile(file, "utf8").then(
    (s) => s.trim(),
    () => undefined,
  );
  if (existing && (await findOwnerByApiKey(db, existing))) return { key: existing, created: false };
  const owner = (existing && (await issuedTo(db, existing))) || (await createOwner(db, "local"));
  const { key } = await createApiKey(db, owner.id);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  print(`Created a local API key (stored hashed; also in ${file}):\n  ${key}`);
  return { key, created: true };
}
