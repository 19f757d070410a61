import { authenticate, connect, loadConfig } from "@padt/gateway";
import { availableDatabaseKinds, createTestDatabase } from "@padt/testkit";
import { describe, expect, it } from "vitest";
import { modelPath } from "../src/commands/common.js";
import { main } from "../src/index.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe("padt CLI", () => {
  it("serves the Shapes model shipped in models/ unless told otherwise", () => {
    const shipped = new URL("../../../models/padt-tiny-shapes", import.meta.url).pathname;
    expect(modelPath(loadConfig([], {}))).toBe(shipped);
    expect(modelPath(loadConfig(["--model", "/elsewhere"], {}))).toBe("/elsewhere");
    expect(modelPath(loadConfig([], { PADT_MODEL: "/env" }))).toBe("/env");
  });

  it("prints usage, and refuses unknown commands", async () => {
    const a = io();
    expect(await main(["--help"], a.io)).toBe(0);
    expect(a.out.join("\n")).toContain("padt serve");
    const b = io();
    expect(await main(["frobnicate"], b.io)).toBe(2);
    expect(b.err.join("\n")).toContain("Usage");
  });

  it.runIf(availableDatabaseKinds().includes("postgres"))(
    "keys create: prints a key that authenticates",
    async () => {
      const testDb = await createTestDatabase("postgres");
      if (testDb.kind !== "postgres") throw new Error("postgres expected");
      try {
        const c = io();
        expect(
          await main(["keys", "create", "--name", "ci", "--database-url", testDb.url], c.io),
        ).toBe(0);
        const key = c.out[0]!;
        expect(key).toMatch(/^padt_/);
        const handle = await connect({ url: testDb.url });
        try {
          expect((await authenticate(handle.db, `Bearer ${key}`))?.name).toBe("ci");
        } finally {
          await handle.close();
        }
      } finally {
        await testDb.drop();
      }
    },
  );
});
