import type { Running } from "./job.js";

/**
 * Lets the running generations finish within `drainMs`, then aborts the rest (they end
 * CANCELLED with their partial content, never COMPLETE).
 */
export async function drainRunning(running: Map<string, Running>, drainMs: number): Promise<void> {
  const all = () => Promise.all([...running.values()].map((r) => r.done));
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), drainMs);
  });
  const outcome = await Promise.race([all().then(() => "done" as const), timeUp]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    for (const r of running.values()) r.controller.abort("shutdown");
    await all();
  }
}
