import { EventEmitter } from "node:events";
import { Channel } from "@padt/engine";

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

  /** Payloads published on `topic` from now on, until the iterator is returned. */
  subscribe(topic: string): AsyncIterableIterator<T> {
    const listener = (payload: T) => channel.push(payload);
    const channel: Channel<T> = new Channel<T>(() => this.#emitter.off(topic, listener));
    this.#emitter.on(topic, listener);
    return channel;
  }

  /** Calls `listener` for each payload published on `topic` until the returned function is called. */
  on(topic: string, listener: (payload: T) => void): () => void {
    this.#emitter.on(topic, listener);
    return () => this.#emitter.off(topic, listener);
  }

  listenerCount(topic: string): number {
    return this.#emitter.listenerCount(topic);
  }
}
