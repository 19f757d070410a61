/** Completions older than this no longer count towards the rate. */
const WINDOW_MS = 10_000;
/** A rate from samples closer together than this is noise. */
const MIN_SPAN_MS = 1000;

/**
 * Completions per second across the live workers, as one gateway replica sees them: the sum of
 * the counters the workers advertise (registry.ts), sampled at each admission, over the last
 * `WINDOW_MS`, while jobs wait. Then the workers are saturated and this is their service rate, gaps
 * between a finish and the next claim included, which the workers' own claim-to-finish times
 * leave out (on the 2-core bench machine those gaps made hints half as long as the waits).
 */
export class ServiceRate {
  readonly #samples: { at: number; completed: number }[] = [];

  /**
   * `completed`: the live workers' total now; `saturated`: answers are waiting for a worker.
   * Only saturated stretches count: idle time would make the rate look slower than service.
   */
  observe(completed: number, saturated: boolean, now = performance.now()): void {
    const last = this.#samples.at(-1);
    // Idle, or a worker stopped (its count left the sum): start again.
    if (!saturated || (last && completed < last.completed)) this.#samples.length = 0;
    if (!saturated) return;
    this.#samples.push({ at: now, completed });
    while ((this.#samples[0] as { at: number }).at < now - WINDOW_MS) this.#samples.shift();
  }

  /** Completions per ms over the window, or undefined while too little is known. */
  perMs(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at - first.at < MIN_SPAN_MS) return undefined;
    const done = last.completed - first.completed;
    return done > 0 ? done / (last.at - first.at) : undefined;
  }
}
