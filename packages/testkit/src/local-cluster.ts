import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPostgresBinDir } from "./pg-binaries.js";

export interface LocalCluster {
  /** Superuser connection string (trust auth on 127.0.0.1). */
  readonly url: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user. */
function asClusterOwner(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
}

function postgresUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

/**
 * Starts a throw-away PostgreSQL cluster from the locally installed binaries, in a
 * temporary directory, listening on a free loopback port. `stop()` removes everything.
 * Returns undefined when no binaries are installed.
 */
export async function startLocalCluster(): Promise<LocalCluster | undefined> {
  const bin = findPostgresBinDir();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "padt-pg-"));
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresUid();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const port = await freePort();
  const run = (cmd: string, args: string[]) => {
    const [c, a] = asClusterOwner(join(bin, cmd), args);
    execFileSync(c, a, { stdio: "pipe" });
  };
  try {
    run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
    run("pg_ctl", [
      "-D",
      data,
      "-l",
      join(dir, "server.log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "start",
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
