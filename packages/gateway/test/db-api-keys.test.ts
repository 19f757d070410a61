import { ErrorCode } from "@padt/protocol";
import { availableDatabaseKinds } from "@padt/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateKey, KEY_USE_RESOLUTION_MS } from "../src/auth.js";
import { activeApiKeyIds, findOwnerByApiKey, hashApiKey } from "../src/db/repos/api_keys.js";
import * as schema from "../src/db/schema.js";
import {
  authenticate,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("API keys on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  const stored = async (id: string) =>
    (await t.db.select().from(schema.apiKeys).where(eq(schema.apiKeys.id, id)))[0]!;
  /** Moves a key's times into the past, as if it had been made or used `ms` ago. */
  const age = (id: string, column: "expires_at" | "last_used_at", ms: number) =>
    t.db.execute(
      sql`update api_keys set ${sql.raw(column)} = now() - make_interval(secs => ${ms / 1000}) where id = ${id}`,
    );

  it("gives out a key once and stores only its hash", async () => {
    const owner = await newOwner(t.db);
    const { key, apiKey } = await createApiKey(t.db, owner.id, { name: "laptop" });
    expect(key).toMatch(/^padt_[A-Za-z0-9_-]{43}$/);
    expect(apiKey.keyHash).toBe(hashApiKey(key));
    expect(key.startsWith(apiKey.prefix)).toBe(true);
    expect(Object.values(await stored(apiKey.id))).not.toContain(key);
    expect((await findOwnerByApiKey(t.db, key))?.id).toBe(owner.id);
    expect(await findOwnerByApiKey(t.db, `${key}x`)).toBeUndefined();
  });

  it("lists every key with its owner and never a hash", async () => {
    const owner = await newOwner(t.db);
    const a = await createApiKey(t.db, owner.id, { name: "a" });
    const expiresAt = new Date(Date.now() + 86_400_000);
    const b = await createApiKey(t.db, owner.id, { expiresAt });
    const listed = await listApiKeys(t.db, { ownerId: owner.id });
    expect(listed.map((k) => k.id)).toEqual([a.apiKey.id, b.apiKey.id]);
    expect(listed[0]).toMatchObject({ name: "a", ownerName: owner.name, revokedAt: null });
    expect(listed[1]).toMatchObject({ name: null, expiresAt, lastUsedAt: null });
    for (const k of listed) expect(k).not.toHaveProperty("keyHash");
    expect(JSON.stringify(listed)).not.toContain(a.apiKey.keyHash);
    // Unfiltered, other owners' keys are there too.
    const all = await listApiKeys(t.db);
    expect(all.map((k) => k.id)).toEqual(expect.arrayContaining([a.apiKey.id, b.apiKey.id]));
    expect(await listApiKeys(t.db, { ownerId: "not-a-uuid" })).toEqual([]);
  });

  it("revokes a key by id, once, and refuses it from then on", async () => {
    const owner = await newOwner(t.db);
    const { key, apiKey } = await createApiKey(t.db, owner.id);
    const other = await createApiKey(t.db, owner.id);
    const first = await revokeApiKey(t.db, apiKey.id);
    expect(first.revoked).toBe(true);
    expect(first.apiKey.revokedAt).toBeInstanceOf(Date);
    expect(await findOwnerByApiKey(t.db, key)).toBeUndefined();
    expect(await authenticate(t.db, `Bearer ${key}`)).toBeUndefined();
    // The owner's other key is untouched.
    expect((await findOwnerByApiKey(t.db, other.key))?.id).toBe(owner.id);

    const again = await revokeApiKey(t.db, apiKey.id);
    expect(again.revoked).toBe(false);
    expect(again.apiKey.revokedAt).toEqual(first.apiKey.revokedAt);
    for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
      await expect(revokeApiKey(t.db, id)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    }
  });

  it("refuses a key once it has expired, by the database's clock", async () => {
    const owner = await newOwner(t.db);
    const { key, apiKey } = await createApiKey(t.db, owner.id, {
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect((await findOwnerByApiKey(t.db, key))?.id).toBe(owner.id);
    await age(apiKey.id, "expires_at", 1000);
    expect(await findOwnerByApiKey(t.db, key)).toBeUndefined();
    expect(await authenticateKey(t.db, key)).toBeUndefined();
  });

  it("names the active keys among many in one query", async () => {
    const owner = await newOwner(t.db);
    const live = await createApiKey(t.db, owner.id);
    const revoked = await createApiKey(t.db, owner.id);
    const expired = await createApiKey(t.db, owner.id, { expiresAt: new Date(Date.now() + 1000) });
    await revokeApiKey(t.db, revoked.apiKey.id);
    await age(expired.apiKey.id, "expires_at", 1000);
    t.queries.count = 0;
    const ids = [live, revoked, expired].map((k) => k.apiKey.id);
    expect(await activeApiKeyIds(t.db, [...ids, crypto.randomUUID()])).toEqual(
      new Set([live.apiKey.id]),
    );
    expect(t.queries.count).toBe(1);
    expect(await activeApiKeyIds(t.db, [])).toEqual(new Set());
  });

  it("rotates: a new key for the same owner, the old one revoked at once", async () => {
    const owner = await newOwner(t.db);
    const old = await createApiKey(t.db, owner.id, { name: "ci" });
    const rotated = await rotateApiKey(t.db, old.apiKey.id);
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.apiKey).toMatchObject({ ownerId: owner.id, name: "ci", revokedAt: null });
    expect(rotated.old.revokedAt).toBeInstanceOf(Date);
    expect(await findOwnerByApiKey(t.db, old.key)).toBeUndefined();
    expect((await findOwnerByApiKey(t.db, rotated.key))?.id).toBe(owner.id);
    await expect(rotateApiKey(t.db, crypto.randomUUID())).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
  });

  it("rotates with a grace period: the old key works until it ends, never longer than before", async () => {
    const owner = await newOwner(t.db);
    const old = await createApiKey(t.db, owner.id);
    const rotated = await rotateApiKey(t.db, old.apiKey.id, { graceMs: 600_000 });
    expect(rotated.old.revokedAt).toBeNull();
    const graceEnd = rotated.old.expiresAt!.getTime();
    expect(graceEnd).toBeGreaterThan(Date.now() + 500_000);
    expect((await findOwnerByApiKey(t.db, old.key))?.id).toBe(owner.id);
    expect((await findOwnerByApiKey(t.db, rotated.key))?.id).toBe(owner.id);
    await age(old.apiKey.id, "expires_at", 1);
    expect(await findOwnerByApiKey(t.db, old.key)).toBeUndefined();

    // A key that expires sooner than the grace keeps its own, earlier end.
    const soon = await createApiKey(t.db, owner.id, { expiresAt: new Date(Date.now() + 60_000) });
    const again = await rotateApiKey(t.db, soon.apiKey.id, { graceMs: 600_000 });
    expect(again.old.expiresAt).toEqual(soon.apiKey.expiresAt);
  });

  it("rotates a revoked key, which stays revoked, so its owner gets a working key again", async () => {
    const owner = await newOwner(t.db);
    const old = await createApiKey(t.db, owner.id);
    const { apiKey: revoked } = await revokeApiKey(t.db, old.apiKey.id);
    const rotated = await rotateApiKey(t.db, old.apiKey.id);
    expect(rotated.old.revokedAt).toEqual(revoked.revokedAt);
    expect((await findOwnerByApiKey(t.db, rotated.key))?.id).toBe(owner.id);
  });

  it("records the last use at most once per resolution period, not once per request", async () => {
    const owner = await newOwner(t.db);
    const { key, apiKey } = await createApiKey(t.db, owner.id);
    expect((await authenticateKey(t.db, `Bearer ${key}`))?.keyId).toBe(apiKey.id);
    const firstUse = (await stored(apiKey.id)).lastUsedAt;
    expect(firstUse).toBeInstanceOf(Date);

    t.queries.count = 0;
    for (let i = 0; i < 5; i++) await authenticateKey(t.db, key);
    // One lookup each, and no write.
    expect(t.queries.count).toBe(5);
    expect((await stored(apiKey.id)).lastUsedAt).toEqual(firstUse);

    await age(apiKey.id, "last_used_at", KEY_USE_RESOLUTION_MS + 1000);
    const aged = (await stored(apiKey.id)).lastUsedAt!;
    await authenticateKey(t.db, key);
    expect((await stored(apiKey.id)).lastUsedAt!.getTime()).toBeGreaterThan(aged.getTime());
  });
});
