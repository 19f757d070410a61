// `padt serve` as a child process (the gateway's cli-process helper: the CLI's own entry,
// NODE_ENV removed), with what the cross-package tests add: a model bundle, the server's
// memory read from the kernel (/proc/<pid>/status, never estimated), and a watchdog.
import { readFileSync } from "node:fs";
import { createApiKey, createOwner, type DatabaseHandle, migrate } from "@padt/gateway";
import type { DatabaseKind } from "@padt/testkit";
import {
  type CliProcess,
  serveTarget,
  startCli,
} from "../../packages/gateway/test/helpers/cli-process.js";

export interface ServerProcess {
  url: string;
  key: string;
  readonly proc: CliProcess;
  /** Everything the server wrote so far (stdout, then stderr). */
  output(): string;
  /** Peak resident set size of the server process so far (VmHWM), bytes. */
  peakRssBytes(): number;
  /** The server's database, once the process has exited (PGlite allows one process). */
  openDatabase(): Promise<DatabaseHandle>;
  /** SIGTERM, then SIGKILL if it has not exited in `graceMs`; removes its database. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A /proc/<pid>/status field (kB there), in bytes; undefined once the process has exited (a
 * zombie's status has no memory fields). Linux only.
 */
export function procStatusBytes(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * `padt serve --model <model>` on a loopback port and a fresh database of `kind`, with a key.
 * PGlite's data directory is created and migrated first, as it is at every start after the
 * first: PGlite's initdb alone peaks at about 750 MB resident, once, and WebAssembly memory is
 * never given back, which would hide what a request costs.
 */
export async function startServerProcess(
  kind: DatabaseKind,
  options: {
    model: string;
    env?: Record<string, string>;
    /** SIGKILL the server once its resident memory passes this: a runaway must not take the machine down. */
    killAboveRssBytes?: number;
  },
): Promise<ServerProcess> {
  const target = await serveTarget(kind);
  if (kind === "pglite") {
    const handle = await target.openDatabase();
    await migrate(handle);
    await handle.close();
  }
  const proc = startCli([...target.args, "--model", options.model], options.env);
  const alive = () => proc.child.exitCode === null && proc.child.signalCode === null;
  let url: string;
  let key: string;
  try {
    url = (await proc.waitFor(/gateway on (http:\/\/\S+)\/graphql/))[1] as string;
    if (kind === "postgres") {
      const handle = await target.openDatabase();
      try {
        key = (await createApiKey(handle.db, (await createOwner(handle.db, "e2e")).id)).key;
      } finally {
        await handle.close();
      }
    } else {
      key = (await proc.waitFor(/^\s+(padt_\S+)$/m))[1] as string;
    }
  } catch (error) {
    if (alive()) proc.child.kill("SIGKILL");
    await target.cleanup();
    throw error;
  }
  const pid = proc.child.pid as number;
  let peak = 0;
  const note: string[] = [];
  const limit = options.killAboveRssBytes;
  const watchdog = limit
    ? setInterval(() => {
        const rss = procStatusBytes(pid, "VmRSS");
        if (rss === undefined || rss <= limit) return;
        note.push(`[test] killed: resident memory ${rss} bytes > ${limit}`);
        proc.child.kill("SIGKILL");
      }, 50)
    : undefined;
  void proc.exited.then(() => clearInterval(watchdog));
  const peakRssBytes = () => {
    // Read while the process lives; remembered for after it has exited.
    if (alive()) peak = Math.max(peak, procStatusBytes(pid, "VmHWM") ?? 0);
    return peak;
  };
  return {
    url,
    key,
    proc,
    output: () => [proc.stdout(), proc.stderr(), ...note].join("\n"),
    peakRssBytes,
    openDatabase: () => target.openDatabase(),
    async stop(graceMs = 30_000) {
      if (alive()) {
        peakRssBytes();
        proc.child.kill("SIGTERM");
        const timer = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
        await proc.exited;
        clearTimeout(timer);
      }
      await target.cleanup();
    },
  };
}
