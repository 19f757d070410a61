import type { Io } from "./common.js";

const clock = (s: number) =>
  Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}` : "?";

/**
 * n/N, rate and ETA on stderr: a bar redrawn in place on a terminal, otherwise a line at
 * most every `everyMs` (and at the end), so logs stay short.
 */
export function progress(io: Io, label: string, total: number, everyMs = 5000) {
  const started = performance.now();
  let printed = -Infinity;
  const line = (done: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    return `${label} ${done}/${total} ${rate.toFixed(2)}/s ETA ${clock(eta)}`;
  };
  return {
    tick(done: number) {
      if (io.errTty) {
        const width = 24;
        const filled = total ? Math.round((width * done) / total) : width;
        io.errTty(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${line(done)}\x1b[K`);
        if (done === total) io.errTty("\n");
        return;
      }
      const now = performance.now();
      if (done === total || now - printed >= everyMs) {
        printed = now;
        io.err(line(done));
      }
    },
  };
}
