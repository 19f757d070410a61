/**
 * The `padt` command as users run it: a child process on the CLI's own entry (packages/cli/src/bin.ts,
 * through tsx, with the workspace sources), in an environment without NODE_ENV=test or
 * VITEST, so no test-only path (Apollo's signal handling, our silent logger) is taken.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type DatabaseKind } from "@padt/testkit";
import { connect, createApiKey, createOwner, type DatabaseHandle } from "../../src/index.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = join(ROOT, "packages/cli/src/bin.ts");

/** The tiny random bundle: it never stops by itself, so an answer runs as long as asked. */
export const RANDOM_BUNDLE = join(ROOT, "tests/fixtures/padt-tiny-random");

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The first match of `pattern` in stdout or stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  readonly exited: Promise<Exit>;
}

/** Variables of the test runner and of the operator's shell that would change what `padt` does. */
const STRIPPED = /^(NODE_ENV|VITEST.*|DATABASE_URL|PORT|HOST|PADT_.*|LOG_LEVEL|OTEL_.*)$/;

const running = new Set<ChildProcess>();

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !STRIPPED.test(k)),
  );
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=@padt/source", BIN, ...args],
    { cwd: ROOT, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    out += s;
    wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    err += s;
    wake();
  });
  const exited = new Promise<Exit>((resolve) => {
    // "close", not "exit": by then the pipes have delivered their last bytes.
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
    wake();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern) ?? err.match(pattern);
          if (match || done) waiters.delete(check);
          if (match) resolve(match);
          else if (done)
            reject(new Error(`padt exited before printing ${pattern}:\n${out}\n${err}`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Kills what a failed test left running (call from afterEach). */
export function killLeftovers(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** A fresh database of `kind` for `padt serve`, and the flags that point it there. */
export interface ServeTarget {
  /** `serve --port 0 --host 127.0.0.1 --data-dir <fresh> [--database-url <fresh>]` */
  args: string[];
  dataDir: string;
  /** A handle on the server's database, once the process is gone (PGlite allows one process). */
  openDatabase(): Promise<DatabaseHandle>;
  /** Drops the database, removes the data directory. */
  cleanup(): Promise<void>;
}

/**
 * A data directory of its own (embedded PGlite in `<dir>/db`), or that and a PostgreSQL test
 * database named with --database-url.
 */
export async function serveTarget(kind: DatabaseKind): Promise<ServeTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), "padt-cli-"));
  const pg = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
  const url = pg?.kind === "postgres" ? pg.url : undefined;
  const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
  if (url) args.push("--database-url", url);
  return {
    args,
    dataDir,
    openDatabase: () => connect(url ? { url } : { dataDir: join(dataDir, "db") }),
    async cleanup() {
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServedCli extends ServeTarget {
  proc: CliProcess;
  url: string;
  key: string;
}

/**
 * `padt serve` on a free loopback port, on a fresh database of `kind` (serveTarget), with a
 * key: the local key it prints (PGlite), or one made here (PostgreSQL).
 */
export async function serveCli(
  kind: DatabaseKind,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<ServedCli> {
  const target = await serveTarget(kind);
  const proc = startCli([...target.args, ...(options.args ?? [])], options.env);
  const listening = await proc.waitFor(/gateway on (http:\/\/\S+)\/graphql/);
  let key: string;
  if (kind === "postgres") {
    const handle = await target.openDatabase();
    try {
      const owner = await createOwner(handle.db, "cli-test");
      key = (await createApiKey(handle.db, owner.id)).key;
    } finally {
      await handle.close();
    }
  } else {
    key = (await proc.waitFor(/^\s+(padt_\S+)$/m))[1]!;
  }
  return {
    ...target,
    proc,
    url: listening[1]!,
    key,
    async cleanup() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill("SIGKILL");
        await proc.exited;
      }
      await target.cleanup();
    },
  };
}
