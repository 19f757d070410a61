import { createTestDatabase, type TestDatabase } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionEventPayload } from "../src/bus.js";
import { createNotifyBus, type NotifyBus } from "../src/notify_bus.js";

const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

/** Two replicas' buses on one PostgreSQL database: LISTEN/NOTIFY between them. */
describe.skipIf(!hasPostgres)("the LISTEN/NOTIFY bus", () => {
  let database: TestDatabase;
  let one: NotifyBus;
  let two: NotifyBus;
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    if (database.kind !== "postgres") throw new Error("needs PostgreSQL");
    one = createNotifyBus(database.url);
    two = createNotifyBus(database.url);
    await Promise.all([one.ready, two.ready]);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.drop();
  });

  /** The next `n` payloads on `topic` of `bus`'s sessions, once they have all arrived. */
  function next<T>(
    on: (topic: string, listener: (p: T) => void) => () => void,
    topic: string,
    n: number,
  ): Promise<T[]> {
    return new Promise((resolve) => {
      const got: T[] = [];
      const off = on(topic, (p) => {
        got.push(p);
        if (got.length === n) {
          off();
          resolve(got);
        }
      });
    });
  }

  it("a publish reaches the other replica in order, and this one's subscribers exactly once", async () => {
    const sessionId = "s-1";
    const events: SessionEventPayload[] = [
      { type: "message_added", messageId: "m-1" },
      { type: "message_status_changed", messageId: "m-1" },
      { type: "session_renamed", sessionId },
    ];
    const there = next<SessionEventPayload>((t, l) => two.sessions.on(t, l), sessionId, 3);
    const localSeen: SessionEventPayload[] = [];
    const offLocal = one.sessions.on(sessionId, (p) => localSeen.push(p));
    for (const e of events) one.sessions.publish(sessionId, e);
    expect(await there).toEqual(events);
    // A round trip on `two` after `one`'s notifications: its own echo would have arrived by now.
    const seqs = next<number>((t, l) => one.messages.on(t, l), "m-2", 1);
    two.messages.publish("m-2", 7);
    expect(await seqs).toEqual([7]);
    offLocal();
    expect(localSeen).toEqual(events);
  });

  it("stop signals travel by message id", async () => {
    const stop = next((t, l) => two.stops.on(t, l), "m-3", 1);
    one.stops.publish("m-3", "cancelled");
    expect(await stop).toEqual(["cancelled"]);
  });
});
