// Where the CPU went during a run (Linux /proc; elsewhere every figure is NaN): a process's
// user + system seconds, and the machine's busy core-seconds, to tell a saturated machine
// from a bottleneck inside the processes.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

const TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU seconds a process has used so far. */
export function processCpuS(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total core-seconds of the machine since boot. */
export function machineCpuS() {
  try {
    const [, ...f] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const n = f.map(Number);
    const idle = n[3] + n[4];
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

export const cores = () => cpus().length;
