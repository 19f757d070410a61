import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Bus, LineNotice, PresenceNotice, SessionEventPayload, StopSignal } from "./bus.js";
import { PubSub, type Topic } from "./pubsub.js";
import type { Logger } from "./server/logger.js";

/** The channel every replica LISTENs on. */
export const BUS_CHANNEL = "padt_bus";
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_MS = 500;

type Kind = "m" | "s" | "x" | "p" | "l";
interface Wire {
  /** The publishing process: it delivered locally already and skips its own echo. */
  o: string;
  k: Kind;
  t: string;
  p: unknown;
}

export interface NotifyBus extends Bus {
  /** Resolves once LISTEN is in place (wake-ups published by others from then on arrive). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The Bus across replicas, on PostgreSQL LISTEN/NOTIFY. A publish reaches this process's
 * subscribers at once and every other replica through one NOTIFY on `padt_bus` carrying the
 * topic and payload (ids and seqs, far below the 8000-byte limit). It stays a wake-up path:
 * a notification sent while a listener is reconnecting is lost, so after reconnecting every
 * message topic is woken and its subscribers catch up from the events table by seq.
 *
 * One connection both listens and sends, so this process's notifications leave in the order
 * they were published (PostgreSQL delivers one session's notifications in order).
 */
export function createNotifyBus(url: string, logger?: Logger): NotifyBus {
  const origin = randomUUID();
  const local = {
    m: new PubSub<number>(),
    s: new PubSub<SessionEventPayload>(),
    x: new PubSub<StopSignal>(),
    p: new PubSub<PresenceNotice>(),
    l: new PubSub<LineNotice>(),
  };
  /** Message topics with listeners here, and how many: the ones woken after a reconnect. */
  const listened = new Map<string, number>();
  let client: pg.Client | undefined;
  let closed = false;
  let sending: Promise<unknown> = Promise.resolve();
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const deliver = (kind: Kind, topic: string, payload: unknown) =>
    (local[kind] as PubSub<unknown>).publish(topic, payload);

  async function open(): Promise<void> {
    while (!closed) {
      const c = new pg.Client({ connectionString: url });
      try {
        c.on("error", (error) => logger?.warn({ err: error }, "bus connection lost"));
        c.on("notification", (n) => {
          if (n.channel !== BUS_CHANNEL || !n.payload) return;
          const wire = JSON.parse(n.payload) as Wire;
          // A kind this version does not know comes from a newer replica: not for us.
          if (wire.o !== origin && wire.k in local) deliver(wire.k, wire.t, wire.p);
        });
        c.on("end", () => {
          if (client === c) client = undefined;
          if (!closed) void reopen();
        });
        await c.connect();
        await c.query(`LISTEN ${BUS_CHANNEL}`);
        client = c;
        resolveReady();
        return;
      } catch (error) {
        logger?.warn({ err: error }, "bus cannot listen; retrying");
        await c.end().catch(() => {});
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    }
  }

  async function reopen(): Promise<void> {
    await new Promise((r) => setTimeout(r, RECONNECT_MS));
    await open();
    // Whatever was notified meanwhile is lost: let every message subscriber re-read.
    for (const topic of listened.keys()) deliver("m", topic, -1);
  }

  function send(kind: Kind, topic: string, payload: unknown): void {
    const text = JSON.stringify({ o: origin, k: kind, t: topic, p: payload } satisfies Wire);
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      logger?.error({ topic, bytes: Buffer.byteLength(text) }, "bus payload too large; not sent");
      return;
    }
    sending = sending.then(async () => {
      const c = client ?? (await ready.then(() => client));
      await c?.query("SELECT pg_notify($1, $2)", [BUS_CHANNEL, text]);
    });
    sending = sending.catch((error) => logger?.warn({ err: error }, "bus notify failed"));
  }

  function topic<T>(kind: Kind): Topic<T> {
    const pubsub = local[kind] as unknown as PubSub<T>;
    return {
      publish(name, payload) {
        pubsub.publish(name, payload);
        send(kind, name, payload);
      },
      on(name, listener) {
        const off = pubsub.on(name, listener);
        if (kind !== "m") return off;
        listened.set(name, (listened.get(name) ?? 0) + 1);
        return () => {
          off();
          const n = (listened.get(name) ?? 1) - 1;
          if (n > 0) listened.set(name, n);
          else listened.delete(name);
        };
      },
    };
  }

  void open();
  return {
    messages: topic<number>("m"),
    sessions: topic<SessionEventPayload>("s"),
    stops: topic<StopSignal>("x"),
    presence: topic<PresenceNotice>("p"),
    line: topic<LineNotice>("l"),
    openMessageStreams: 0,
    ready,
    async close() {
      closed = true;
      await sending;
      await client?.end().catch(() => {});
    },
  };
}
