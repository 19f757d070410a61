import { EventEmitter } from "node:events";

/**
 * In-process publish/subscribe for one gateway process. Subscribers never rely on it for
 * completeness: every event is in the database first, and a subscription replays from there
 * (by sequence number) before following live ones, so this is only a wake-up path. Across
 * replicas, the same interface is served by PostgreSQL LISTEN/NOTIFY or Redis.
 */
export class PubSub<T> {
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  publish(topic: string, payload: T): void {
    this.#emitter.emit(topic, payload);
  }

  /** Calls `listener` for each payload published on `topic` until the returned function is called. */
  on(topic: string, listener: (payload: T) => void): () => void {
    this.#emitter.on(topic, listener);
    return () => this.#emitter.off(topic, listener);
  }
}
