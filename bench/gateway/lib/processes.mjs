// The built CLI as a child process on 127.0.0.1, the way users start it (NODE_ENV and the
// PADT_* / DATABASE_URL settings of the bench's own shell stripped, so only the flags count).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../..", import.meta.url));
const bin = join(root, "packages/cli/dist/bin.js");

/** The bench's environment without what would change the child's settings behind its flags. */
export const childEnv = (extra = {}) => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(NODE_ENV|DATABASE_URL|PORT|HOST|PADT_.*)$/.test(k),
    ),
  ),
  ...extra,
});

/** Every child still running, from its spawn on (so a start that fails half-way leaks none). */
const live = new Set();

/** SIGTERM every child started here that is still running (they drain), and wait for them. */
export async function stopStarted() {
  await Promise.all([...live].map((p) => p.stop()));
}

/** SIGKILL every child started here that is still running, and wait for them. */
export async function killStarted() {
  await Promise.all([...live].map((p) => p.kill()));
}

/**
 * `padt <args>`; `ready` resolves with the first match of `readyLine` in its output (or
 * rejects when it exits first). `stop()` sends SIGTERM and waits; `kill()` is SIGKILL.
 */
export function startPadt(args, { env = childEnv(), readyLine } = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = new Promise((resolve, reject) => {
    const check = () => {
      const m = readyLine?.exec(log);
      if (m) resolve(m);
    };
    const take = (d) => {
      log += d;
      check();
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.once("exit", (code) => reject(new Error(`padt ${args[0]} exited (${code}):\n${log}`)));
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc = {
    child,
    ready,
    log: () => log,
    async stop() {
      if (alive()) child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

export const GATEWAY_LINE = /gateway on (http:\/\/\S+)\/graphql/;
export const WORKER_LINE = /PaDT Studio worker for model/;

/** `padt serve` on a free loopback port; resolves with the process and its base URL. */
export async function startServe(extraArgs, options = {}) {
  const proc = startPadt(["serve", "--port", "0", "--host", "127.0.0.1", ...extraArgs], {
    ...options,
    readyLine: GATEWAY_LINE,
  });
  const url = (await proc.ready)[1];
  return { ...proc, url };
}

/** `padt worker`; resolves once it says it claims jobs. */
export async function startWorker(extraArgs, options = {}) {
  const proc = startPadt(["worker", ...extraArgs], { ...options, readyLine: WORKER_LINE });
  await proc.ready;
  return proc;
}
