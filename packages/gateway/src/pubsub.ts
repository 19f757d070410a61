import { EventEmitter } from "node:events";

/**
 * In-process publish/subscribe for one gateway process. Subscribers never rely on it for
 * completeness: every event is in the database first, and a subscription replays from there
 * (by sequence number) before following live ones, so this is only a wake-up path. Across
 * replicas, the same interface is served by PostgreSQL LISTEN/NOTIFY (notify_bus.ts).
 */
/** A topic-keyed publish/subscribe channel: the shape every Bus transport has. */
export interface Topic<T> {
  publish(topic: string, payload: T): void;
  /** Calls `listener` for each payload published on `topic` until the returned function is called. */
  on(topic: string, listener: (payload: T) => void): () => void;
}

export class PubSub<T> implements Topic<T> {
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
