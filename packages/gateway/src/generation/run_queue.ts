/**
 * The one queue of admitted generations in a process. Every accepted answer waits here, in
 * order, until the engine has a worker for it; the engine's own queue is not relied on, so an
 * answer the gateway accepted is never refused later for want of room (issue 14.4).
 */
export interface Slot {
  /** When the slot was granted (performance.now()). */
  readonly since: number;
  /** Gives the slot back and starts the next waiter; a second call does nothing. */
  release(): void;
}

interface Waiter {
  grant(slot: Slot): void;
}

export class RunQueue {
  readonly #waiting: Waiter[] = [];
  readonly #inService = new Set<Slot>();

  /** `capacity()`: how many jobs may be with the engine at once (its workers x their batch). */
  constructor(private readonly capacity: () => number) {}

  /**
   * Resolves with a slot when it is this job's turn (its holder releases it when done). An
   * abort while waiting leaves the queue and rejects with the signal's reason.
   */
  acquire(signal: AbortSignal): Promise<Slot> {
    signal.throwIfAborted();
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: (slot) => {
          signal.removeEventListener("abort", onAbort);
          resolve(slot);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#waiting.length > 0 && this.#inService.size < Math.max(1, this.capacity())) {
      const waiter = this.#waiting.shift() as Waiter;
      let released = false;
      const slot: Slot = {
        since: performance.now(),
        release: () => {
          if (released) return;
          released = true;
          this.#inService.delete(slot);
          this.#pump();
        },
      };
      this.#inService.add(slot);
      waiter.grant(slot);
    }
  }
}
