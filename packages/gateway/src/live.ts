import type { Topic } from "./pubsub.js";

/**
 * The live half of a subscription: payloads published on one topic, buffered in order from
 * the moment this is created. Unlike a plain channel, `close()` also releases a consumer that
 * is waiting, so an unsubscribing client is let go at once, not at the next event.
 */
export class LiveQueue<T> {
  readonly #buffer: T[] = [];
  readonly #off: () => void;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(pubsub: Topic<T>, topic: string) {
    this.#off = pubsub.on(topic, (payload) => {
      this.#buffer.push(payload);
      this.#release();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Everything buffered so far (and clears it). */
  drain(): T[] {
    return this.#buffer.splice(0);
  }

  /** Resolves once something is buffered or the queue is closed. */
  async wait(): Promise<void> {
    if (this.#buffer.length > 0 || this.#closed) return;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#off();
    this.#release();
  }

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Wraps an async generator so that `return()` first runs `onClose` (which must release
 * whatever the generator awaits), then finishes the generator: an async generator cannot
 * act on return() while it is suspended in an await.
 */
export function closable<T>(
  generator: AsyncGenerator<T, void, undefined>,
  onClose: () => void,
): AsyncIterableIterator<T> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
  };
  return {
    async next() {
      try {
        const r = await generator.next();
        if (r.done) close();
        return r;
      } catch (error) {
        close();
        throw error;
      }
    },
    async return() {
      close();
      await generator.return(undefined);
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      close();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
