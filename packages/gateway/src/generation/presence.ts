import { randomUUID } from "node:crypto";
import type { Bus, PresenceNotice } from "../bus.js";
import { subscriberJoined, subscriberLeft } from "./grace.js";
import type { Running } from "./job.js";

/** The one bus topic presence notices travel on. */
export const PRESENCE_TOPIC = "watchers";
/** Message ids per notice: about 6 KB, under NOTIFY's 8000-byte limit. */
const IDS_PER_NOTICE = 150;

/**
 * The API side of "who is still watching": this replica's messageEvents subscribers per
 * message. The first one to join and the last one to leave are announced on the bus, and every
 * watched id is announced again each `heartbeatMs`, so whoever runs the answer (here or on a
 * worker) counts the replicas watching it, and forgets a replica that died.
 */
export class WatchAnnouncer {
  readonly #counts = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly from = randomUUID();

  constructor(
    private readonly bus: Bus,
    heartbeatMs: number,
  ) {
    this.#timer = setInterval(() => this.#beat(), heartbeatMs);
    this.#timer.unref();
  }

  joined(messageId: string): void {
    const n = (this.#counts.get(messageId) ?? 0) + 1;
    this.#counts.set(messageId, n);
    if (n === 1) this.#announce([messageId], true);
  }

  left(messageId: string): void {
    const n = (this.#counts.get(messageId) ?? 0) - 1;
    if (n > 0) {
      this.#counts.set(messageId, n);
      return;
    }
    this.#counts.delete(messageId);
    this.#announce([messageId], false);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    const ids = [...this.#counts.keys()];
    for (let i = 0; i < ids.length; i += IDS_PER_NOTICE)
      this.#announce(ids.slice(i, i + IDS_PER_NOTICE), true);
  }

  #announce(ids: string[], watching: boolean): void {
    this.bus.presence.publish(PRESENCE_TOPIC, { from: this.from, ids, watching });
  }
}

/**
 * The running side: which replicas watch each answer, from their notices. An answer running
 * here counts one subscriber per watching replica (grace.ts), so "the last subscriber left"
 * means on every replica; a replica silent for `staleMs` (it died) counts as having left.
 * Notices about answers not running here are kept too (until stale): a job claimed after its
 * watchers announced themselves starts with the right count.
 */
export class WatcherCounts {
  /** message id -> replica -> when last heard (performance.now()). */
  readonly #seen = new Map<string, Map<string, number>>();
  readonly #tracked = new Map<string, Running>();
  readonly #off: () => void;
  readonly #timer: NodeJS.Timeout;

  constructor(
    bus: Bus,
    private readonly graceMs: number,
    private readonly staleMs: number,
  ) {
    this.#off = bus.presence.on(PRESENCE_TOPIC, (notice) => this.#notice(notice));
    this.#timer = setInterval(() => this.#prune(), Math.max(50, Math.floor(staleMs / 3)));
    this.#timer.unref();
  }

  track(running: Running): void {
    const id = running.job.messageId;
    this.#tracked.set(id, running);
    for (let n = this.#seen.get(id)?.size ?? 0; n > 0; n--) subscriberJoined(running);
  }

  untrack(messageId: string): void {
    this.#tracked.delete(messageId);
  }

  stop(): void {
    this.#off();
    clearInterval(this.#timer);
  }

  #notice({ from, ids, watching }: PresenceNotice): void {
    const now = performance.now();
    for (const id of ids) {
      const replicas = this.#seen.get(id) ?? new Map<string, number>();
      const running = this.#tracked.get(id);
      if (watching) {
        const known = replicas.has(from);
        replicas.set(from, now);
        this.#seen.set(id, replicas);
        if (!known && running) subscriberJoined(running);
      } else if (replicas.delete(from)) {
        if (replicas.size === 0) this.#seen.delete(id);
        if (running) subscriberLeft(running, this.graceMs);
      }
    }
  }

  #prune(): void {
    const now = performance.now();
    for (const [id, replicas] of this.#seen) {
      for (const [from, at] of replicas) {
        if (now - at <= this.staleMs) continue;
        replicas.delete(from);
        const running = this.#tracked.get(id);
        if (running) subscriberLeft(running, this.graceMs);
      }
      if (replicas.size === 0) this.#seen.delete(id);
    }
  }
}
