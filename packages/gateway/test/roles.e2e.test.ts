/**
 * `padt serve --role` and `padt worker` refuse what cannot work, at once and before loading
 * the model: the embedded database serves one process, so only `--role all` runs on it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/index.js";
import { killLeftovers, startCli } from "./helpers/cli-process.js";

afterEach(killLeftovers);

describe("roles", () => {
  it("serve --role gateway on the embedded database exits 2 with the reason", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "padt-role-"));
    try {
      const proc = startCli(["serve", "--role", "gateway", "--data-dir", dataDir]);
      expect((await proc.exited).code).toBe(2);
      expect(proc.stderr()).toContain("--role gateway needs a PostgreSQL server");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("worker without a PostgreSQL server exits 2 with the reason", async () => {
    const proc = startCli(["worker"]);
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr()).toContain("padt worker needs a PostgreSQL server");
  });

  it("an unknown role is refused by the configuration, from flags and environment alike", () => {
    expect(() => loadConfig(["--role", "engine"], {})).toThrow(
      /--role must be one of all, gateway/,
    );
    expect(() => loadConfig([], { PADT_ROLE: "worker" })).toThrow(/PADT_ROLE must be one of/);
    expect(loadConfig([], {}).role).toBe("all");
    expect(loadConfig(["--role", "gateway"], {}).role).toBe("gateway");
    expect(() => loadConfig([], { PADT_LEASE_MS: "10" })).toThrow(/at least 100/);
  });
});
