/**
 * One process per PGlite data directory: PGlite has no lock of its own, and two processes on
 * one directory see different data and leave it corrupt. (PGlite only: a PostgreSQL server
 * has many clients by design.)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authenticate, connect, type DatabaseHandle, isDbError } from "../src/index.js";
import { killLeftovers, serveCli, startCli } from "./helpers/cli-process.js";

afterEach(killLeftovers);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "padt-lock-"));
  dirs.push(dir);
  return join(dir, "db");
}

async function refusal(open: Promise<DatabaseHandle>): Promise<Error> {
  const outcome = await open.then(
    async (h) => {
      await h.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!isDbError(outcome, "DATA_DIR_LOCKED")) throw new Error(`not refused: ${String(outcome)}`);
  return outcome;
}

/** A process that is certainly gone: its pid was real a moment ago. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

function writeLock(dir: string, holder: Record<string, unknown>): void {
  writeFileSync(join(dir, "padt.lock"), JSON.stringify({ since: "earlier", ...holder }));
}

describe("the lock on a PGlite data directory", () => {
  it("refuses a second open in this process, naming the holder's pid, until the first closes", async () => {
    const dir = freshDir();
    const first = await connect({ dataDir: dir });
    const error = await refusal(connect({ dataDir: dir }));
    expect(error.message).toContain(`process ${process.pid}`);
    expect(error.message).toContain(dir);
    await first.close();
    expect(existsSync(join(dir, "padt.lock"))).toBe(false);
    const again = await connect({ dataDir: dir });
    await again.close();
  });

  it("takes over a lock whose process is gone", async () => {
    const dir = freshDir();
    await (await connect({ dataDir: dir })).close();
    writeLock(dir, { pid: await deadPid(), nonce: "dead" });
    const handle = await connect({ dataDir: dir });
    try {
      expect(JSON.parse(readFileSync(join(dir, "padt.lock"), "utf8")).pid).toBe(process.pid);
    } finally {
      await handle.close();
    }
  });

  it("takes over a lock left with this process's pid by an earlier process (a restarted container)", async () => {
    const dir = freshDir();
    await (await connect({ dataDir: dir })).close();
    writeLock(dir, { pid: process.pid, nonce: "an earlier life" });
    await (await connect({ dataDir: dir })).close();
  });

  it.runIf(existsSync("/proc/self/stat"))(
    "tells a live holder from a recycled pid by the process's start time",
    async () => {
      const dir = freshDir();
      await (await connect({ dataDir: dir })).close();
      const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], {
        stdio: "ignore",
      });
      try {
        const pid = sleeper.pid!;
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
        writeLock(dir, { pid, started, nonce: "live" });
        expect((await refusal(connect({ dataDir: dir }))).message).toContain(`process ${pid}`);
        writeLock(dir, { pid, started: `${started}0`, nonce: "recycled" });
        await (await connect({ dataDir: dir })).close();
      } finally {
        sleeper.kill("SIGKILL");
      }
    },
  );

  it("padt serve: a second server and keys create refuse the running server's directory", async () => {
    const s = await serveCli("pglite");
    try {
      const { dataDir } = s;
      const pid = s.proc.child.pid!;

      const second = startCli(["serve", "--port", "0", "--data-dir", dataDir]);
      expect((await second.exited).code).toBe(1);
      expect(second.stderr()).toContain("DATA_DIR_LOCKED");
      expect(second.stderr()).toContain(`process ${pid}`);

      const keys = startCli(["keys", "create", "--name", "late", "--data-dir", dataDir]);
      expect((await keys.exited).code).toBe(1);
      expect(keys.stdout()).toBe("");
      expect(keys.stderr()).toContain(`process ${pid}`);
      expect(keys.stderr()).toContain("stop the server first");

      // The running server was not disturbed.
      const viewer = await fetch(`${s.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.key}` },
        body: JSON.stringify({ query: "{ viewer { id } }" }),
      });
      expect(((await viewer.json()) as { data?: unknown }).data).toBeTruthy();

      s.proc.child.kill("SIGTERM");
      expect((await s.proc.exited).code).toBe(0);
      // Stopped: the directory is free, opens, and keys create works on it.
      const after = startCli(["keys", "create", "--name", "late", "--data-dir", dataDir]);
      expect((await after.exited).code).toBe(0);
      const key = after.stdout().trim();
      const handle = await s.openDatabase();
      try {
        expect((await authenticate(handle.db, `Bearer ${key}`))?.name).toBe("late");
        expect((await authenticate(handle.db, `Bearer ${s.key}`))?.name).toBe("local");
      } finally {
        await handle.close();
      }
    } finally {
      await s.cleanup();
    }
  });
});
