import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authenticate, connect, type DatabaseHandle } from "@padt/gateway";
import { availableDatabaseKinds, createTestDatabase } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durationFlag } from "../src/commands/duration.js";
import { main } from "../src/index.js";

interface Listed {
  id: string;
  prefix: string;
  name: string | null;
  ownerId: string;
  ownerName: string;
  status: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

it("reads durations with a unit, and refuses anything else", () => {
  expect(durationFlag("expires-in", "30d")).toBe(30 * 86_400_000);
  expect(durationFlag("grace", "10m")).toBe(600_000);
  expect(durationFlag("grace", "2h")).toBe(7_200_000);
  expect(durationFlag("grace", "45s")).toBe(45_000);
  expect(durationFlag("grace", undefined)).toBeUndefined();
  for (const bad of ["0d", "30", "d", "1.5h", "-1d", "10 weeks", "99999999999999d"])
    expect(() => durationFlag("grace", bad)).toThrow(/--grace must be/);
});

describe.each(availableDatabaseKinds())("padt keys on %s", (kind) => {
  let dbFlags: string[];
  let open: () => Promise<DatabaseHandle>;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (kind === "postgres") {
      const testDb = await createTestDatabase("postgres");
      if (testDb.kind !== "postgres") throw new Error("postgres expected");
      dbFlags = ["--database-url", testDb.url];
      open = () => connect({ url: testDb.url });
      cleanup = () => testDb.drop();
    } else {
      // The CLI's own embedded database: PGlite in <data-dir>/db.
      const dir = mkdtempSync(join(tmpdir(), "padt-keys-"));
      dbFlags = ["--data-dir", dir];
      open = () => connect({ dataDir: join(dir, "db") });
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  afterAll(() => cleanup?.());

  async function padt(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["keys", ...args, ...dbFlags], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }
  const list = async (...args: string[]) =>
    JSON.parse((await padt("list", "--json", ...args)).out) as Listed[];
  async function works(key: string) {
    const handle = await open();
    try {
      return (await authenticate(handle.db, `Bearer ${key}`)) !== undefined;
    } finally {
      await handle.close();
    }
  }

  it("create --expires-in: the key once on stdout, its expiry in the list, never the key or its hash", async () => {
    const created = await padt("create", "--name", "ci", "--expires-in", "30d");
    expect(created.code).toBe(0);
    const key = created.out;
    expect(key).toMatch(/^padt_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toContain("the key is shown once");
    const [row] = (await list()).filter((k) => key.startsWith(k.prefix) && k.name === "ci");
    expect(row).toMatchObject({ name: "ci", ownerName: "ci", status: "active", revokedAt: null });
    const days = (Date.parse(row!.expiresAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const table = await padt("list");
    expect(table.out.split("\n")[0]).toMatch(
      /^ID +PREFIX +NAME +OWNER +STATUS +CREATED +EXPIRES +LAST USED +REVOKED$/,
    );
    expect(table.out).toContain(row!.id);
    for (const printed of [table.out, (await padt("list", "--json")).out])
      expect(printed).not.toContain(key);
    expect(await works(key)).toBe(true);
  });

  it("refuses a bad duration or a missing id as a usage error, and writes nothing", async () => {
    const before = await list();
    for (const args of [
      ["create", "--expires-in", "30x"],
      ["create", "--expires-in", "0d"],
      ["rotate", before[0]!.id, "--grace", "soon"],
      ["revoke"],
      ["rotate"],
      ["frobnicate"],
    ]) {
      const r = await padt(...args);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toContain("Usage");
    }
    expect(await list()).toEqual(before);
  });

  it("revoke: refused from then on, once; an unknown id is NOT_FOUND", async () => {
    const key = (await padt("create", "--name", "leaked")).out;
    const [row] = (await list()).filter((k) => key.startsWith(k.prefix));
    const revoked = await padt("revoke", row!.id);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.out).toMatch(new RegExp(`^revoked: key ${row!.id} `));
    expect(await works(key)).toBe(false);
    const again = await padt("revoke", row!.id);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^already revoked: /);
    expect((await list("--owner", row!.ownerId))[0]).toMatchObject({ status: "revoked" });

    const unknown = await padt("revoke", "0190d3c4-0000-7000-8000-000000000000");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("NOT_FOUND");
  });

  it("rotate: a new key for the same owner; the old one revoked, or working until --grace ends", async () => {
    const old = (await padt("create", "--name", "svc")).out;
    const [row] = (await list()).filter((k) => old.startsWith(k.prefix));
    const graced = await padt("rotate", row!.id, "--grace", "10m");
    expect(graced.code).toBe(0);
    const next = graced.out;
    expect(next).toMatch(/^padt_/);
    expect(graced.err).toContain("still works until");
    expect(await works(old)).toBe(true);
    expect(await works(next)).toBe(true);
    const keys = await list("--owner", row!.ownerId);
    expect(keys.map((k) => k.name)).toEqual(["svc", "svc"]);
    const minutes = (Date.parse(keys[0]!.expiresAt!) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(9);
    expect(minutes).toBeLessThanOrEqual(10);

    const now = await padt("rotate", keys[1]!.id);
    expect(now.code).toBe(0);
    expect(await works(next)).toBe(false);
    expect(await works(now.out)).toBe(true);
    expect((await list("--owner", row!.ownerId)).map((k) => k.status)).toEqual([
      "active",
      "revoked",
      "active",
    ]);
  });

  it("create --owner adds a key to an existing owner", async () => {
    const first = (await padt("create", "--name", "team")).out;
    const [row] = (await list()).filter((k) => first.startsWith(k.prefix));
    const added = await padt("create", "--owner", row!.ownerId, "--name", "laptop");
    expect(added.code).toBe(0);
    expect((await list("--owner", row!.ownerId)).map((k) => k.name)).toEqual(["team", "laptop"]);
    const missing = await padt("create", "--owner", "not-an-owner");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("NOT_FOUND");
  });
});
