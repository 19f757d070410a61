import type { Running } from "./job.js";

/**
 * Abandonment: a generation nobody follows any more stops `graceMs` after its last
 * messageEvents subscriber left, unless one comes back meanwhile.
 */
export function subscriberJoined(running: Running): void {
  running.subscribers += 1;
  clearTimeout(running.graceTimer);
  running.graceTimer = undefined;
}

export function subscriberLeft(running: Running, graceMs: number): void {
  running.subscribers = Math.max(0, running.subscribers - 1);
  if (running.subscribers > 0) return;
  clearTimeout(running.graceTimer);
  running.graceTimer = setTimeout(() => {
    if (running.subscribers === 0) running.controller.abort("abandoned");
  }, graceMs);
  running.graceTimer.unref();
}
