/**
 * Collects a job's events and sends them as one message per turn of the worker's event loop:
 * a generation step emits its events (text, VRT, object) synchronously between two graph
 * runs, and onnxruntime-node starts each run from setImmediate, so a flush scheduled with
 * setImmediate at the first event goes out before the next run starts: one postMessage per
 * step instead of one per event, and no event waits for a later step.
 */
export class EventBatch<Ev> {
  #pending: Ev[] = [];
  #scheduled = false;

  constructor(
    private readonly send: (events: Ev[]) => void,
    private readonly schedule: (flush: () => void) => void = (f) => setImmediate(f),
  ) {}

  push(event: Ev): void {
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Sends what is pending now (also called before the job's end or error message). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    this.send(events);
  }
}
