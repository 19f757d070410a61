/**
 * A least-recently-used cache bounded by the total size of its values (bytes, or any unit
 * `sizeOf` returns), for preprocessed images now and vision-tower outputs later.
 * A Map keeps insertion order, so re-inserting on access makes its first key the oldest.
 */
export interface LruCacheOptions<V> {
  /** Upper bound on the sum of sizeOf(value) over the cache. */
  readonly maxSize: number;
  readonly sizeOf: (value: V) => number;
}

export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; size: number }>();
  readonly #maxSize: number;
  readonly #sizeOf: (value: V) => number;
  #size = 0;

  constructor(options: LruCacheOptions<V>) {
    if (!(options.maxSize >= 0))
      throw new RangeError(`maxSize must be >= 0, got ${options.maxSize}`);
    this.#maxSize = options.maxSize;
    this.#sizeOf = options.sizeOf;
  }

  /** Sum of the sizes of the cached values. */
  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Stores the value unless it alone exceeds maxSize; evicts the oldest entries to fit. */
  set(key: K, value: V): void {
    this.delete(key);
    const size = this.#sizeOf(value);
    if (size > this.#maxSize) return;
    this.#entries.set(key, { value, size });
    this.#size += size;
    for (const [oldest, entry] of this.#entries) {
      if (this.#size <= this.#maxSize) break;
      this.#entries.delete(oldest);
      this.#size -= entry.size;
    }
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#size -= entry.size;
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#size = 0;
  }
}
