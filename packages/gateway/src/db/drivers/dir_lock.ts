/**
 * One process at a time per PGlite data directory. PGlite keeps no lock of its own, and two
 * processes on one directory each see their own copy of the data, then leave it corrupt.
 *
 * The lock is a file, `<dir>/padt.lock`, holding the holder's pid (and, on Linux, the
 * process's start time, so that a recycled pid is recognised). It is created atomically
 * (written aside, then hard-linked into place, which fails if it exists), removed when the
 * holder closes the database or exits, and taken over when its holder is gone: a process
 * killed with SIGKILL leaves a file that blocks no one. It is advisory and local: processes
 * on another machine or in another pid namespace sharing the directory are not seen.
 */

import { randomUUID } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode } from "@padt/protocol";
import { DbError } from "../errors.js";

export const LOCK_FILE = "padt.lock";

interface Holder {
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks since boot), where there is a /proc. */
  started?: string;
  /** Tells this process's own locks from a file left by an earlier process with the same pid. */
  nonce: string;
  since: string;
}

export interface DirLock {
  readonly path: string;
  /** Removes the lock file if it is still this lock's. Idempotent. */
  release(): void;
}

/** Locks held by this process, by file path: the nonce written into each. */
const held = new Map<string, string>();
let exitHook = false;

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function readHolder(path: string): { raw: string; holder?: Holder } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const holder = JSON.parse(raw) as Holder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? { raw, holder } : { raw };
  } catch {
    return { raw };
  }
}

function isAlive(path: string, holder: Holder): boolean {
  if (holder.pid === process.pid) return held.get(path) === holder.nonce;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const started = startTimeOf(holder.pid);
  return !(holder.started && started && started !== holder.started);
}

/** Puts `content` at `path` unless a file is there; false if one is. */
function createExclusive(path: string, content: string): boolean {
  const aside = `${path}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, content, { mode: 0o644 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // A file system without hard links: exclusive create (the content follows at once).
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    try {
      writeFileSync(path, content, { flag: "wx", mode: 0o644 });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw inner;
    }
  } finally {
    unlinkSync(aside);
  }
}

function lockedError(dir: string, path: string, holder: Holder): DbError {
  const self = holder.pid === process.pid ? " (this process)" : "";
  return new DbError(
    ErrorCode.DATA_DIR_LOCKED,
    `the PGlite data directory ${dir} is in use by process ${holder.pid}${self} since ${holder.since}; ` +
      `one process at a time may open it: stop that process first (if it is not running, remove ${path})`,
  );
}

/** Takes the lock on `dir` for this process, or throws DATA_DIR_LOCKED naming the holder's pid. */
export function lockDataDir(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const started = startTimeOf(process.pid);
  const mine: Holder = {
    pid: process.pid,
    ...(started ? { started } : {}),
    nonce: randomUUID(),
    since: new Date().toISOString(),
  };
  const content = `${JSON.stringify(mine)}\n`;
  // A few rounds: each lost race (another process took over a stale lock first) costs one.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(path, content)) {
      held.set(path, mine.nonce);
      if (!exitHook) {
        exitHook = true;
        process.once("exit", () => {
          for (const [p, nonce] of held) removeIf(p, nonce);
        });
      }
      return {
        path,
        release() {
          if (held.get(path) !== mine.nonce) return;
          held.delete(path);
          removeIf(path, mine.nonce);
        },
      };
    }
    const found = readHolder(path);
    if (!found) continue; // released meanwhile
    if (found.holder && isAlive(path, found.holder)) throw lockedError(dir, path, found.holder);
    // Stale (its holder is gone) or unreadable: remove it, unless it changed since it was read.
    if (readHolder(path)?.raw === found.raw) unlinkIfPresent(path);
  }
  const found = readHolder(path)?.holder;
  if (found) throw lockedError(dir, path, found);
  throw new DbError(ErrorCode.DATA_DIR_LOCKED, `could not lock ${dir}: ${path} keeps changing`);
}

function removeIf(path: string, nonce: string): void {
  if (readHolder(path)?.holder?.nonce === nonce) unlinkIfPresent(path);
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
