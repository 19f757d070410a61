/** `padt serve` on a port another process holds: a clear message and a non-zero exit, not a process left running. */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { killLeftovers, serveTarget, startCli } from "./helpers/cli-process.js";

afterEach(killLeftovers);

describe.each(availableDatabaseKinds())("padt serve on a busy port, on %s", (kind) => {
  it("exits 1 saying the port is in use, and leaves the data directory unlocked", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    const target = await serveTarget(kind);
    try {
      const args = target.args.map((a, i) => (target.args[i - 1] === "--port" ? String(port) : a));
      const proc = startCli(args);
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      expect(proc.stderr()).toContain(
        `cannot listen on 127.0.0.1:${port}: the port is in use by another process`,
      );
      expect(proc.stdout()).not.toContain("gateway on");
      expect(existsSync(join(target.dataDir, "db", "padt.lock"))).toBe(false);
    } finally {
      blocker.close();
      await target.cleanup();
    }
  });
});
