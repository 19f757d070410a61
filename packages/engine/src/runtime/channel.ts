/**
 * A single-consumer async queue: producers push, one `for await` drains. Ending it early
 * (break, return) calls `onReturn`, so the producer can stop its work.
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  #waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #done = false;
  #error: { error: unknown } | undefined;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(value: T): void {
    if (this.#done) return;
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.resolve({ value, done: false });
    } else {
      this.#buffer.push(value);
    }
  }

  end(): void {
    this.#settle();
  }

  fail(error: unknown): void {
    this.#error = { error };
    this.#settle();
  }

  #settle(): void {
    if (this.#done) return;
    this.#done = true;
    const w = this.#waiting;
    this.#waiting = undefined;
    if (!w) return;
    if (this.#error) w.reject(this.#error.error);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.#buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#done) {
      if (this.#error) {
        const { error } = this.#error;
        this.#error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#done = true;
      this.#buffer.length = 0;
      this.onReturn();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
