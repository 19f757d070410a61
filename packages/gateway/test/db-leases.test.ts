import { availableDatabaseKinds } from "@padt/testkit";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../src/bus.js";
import { recoverInterrupted } from "../src/db/recover.js";
import { appendEvent } from "../src/db/repos/events.js";
import { insertExchange } from "../src/db/repos/exchange.js";
import { renewLeases } from "../src/db/repos/leases.js";
import { getMessage } from "../src/db/repos/messages.js";
import { partsByMessageIds } from "../src/db/repos/parts.js";
import { finishMessage, markStreaming } from "../src/db/repos/transitions.js";
import { cancelFromEvents, unfinishedInSession } from "../src/db/repos/unfinished.js";
import { messages } from "../src/db/schema.js";
import { LeaseKeeper } from "../src/generation/lease_keeper.js";
import { sweepExpiredLeases } from "../src/generation/lease_sweep.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newSession } from "./helpers/fixtures.js";

/** Leases as the scale-out roles use them: on the database's clock, renewed, swept when expired. */
describe.each(availableDatabaseKinds())("leases on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  async function answer() {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const send = async () =>
      (
        await insertExchange(t.db, owner.id, {
          sessionId: session.id,
          parts: [{ kind: "text", text: "hi" }],
        })
      ).assistantMessage.id;
    return { owner, session, send };
  }

  /** A sweep with a one-minute lease (its timer stopped: the test runs it) and `id`'s wake-ups. */
  function sweepWatching(id: string) {
    const woken: number[] = [];
    const bus = createBus();
    bus.messages.on(id, (seq) => woken.push(seq));
    const sweep = sweepExpiredLeases({ db: t.db, bus, everyMs: 60_000, leaseMs: 60_000 });
    sweep.stop();
    return { sweep, woken };
  }

  it("markStreaming with a duration leases from the database's clock; renewLeases extends only unfinished ones", async () => {
    const { owner, send } = await answer();
    const running = await send();
    const finished = await send();
    const started = await markStreaming(t.db, owner.id, running, 60_000);
    const inAMinute = Date.now() + 60_000;
    // The database's clock and ours agree within seconds on one machine.
    expect(Math.abs((started.leaseUntil?.getTime() ?? 0) - inAMinute)).toBeLessThan(5_000);
    await finishMessage(t.db, owner.id, finished, { status: "complete", parts: [] });

    const kept = await renewLeases(t.db, [running, finished], 120_000);
    expect([...kept]).toEqual([running]);
    const renewed = await getMessage(t.db, owner.id, running);
    expect(renewed!.leaseUntil!.getTime()).toBeGreaterThan(started.leaseUntil!.getTime());
    expect((await getMessage(t.db, owner.id, finished))?.leaseUntil).toBeNull();
  });

  it("the shared-database recovery leaves unleased (queued) and live answers alone and interrupts expired ones", async () => {
    const { owner, send } = await answer();
    const queued = await send();
    const live = await send();
    await markStreaming(t.db, owner.id, live, 60_000);
    const expired = await send();
    await markStreaming(t.db, owner.id, expired, new Date(Date.now() - 1000));
    await appendEvent(t.db, owner.id, expired, { type: "text_delta", payload: { text: "half" } });

    const marked = await recoverInterrupted(t.db, { unleased: false });
    expect(marked).toContain(expired);
    expect(marked).not.toContain(queued);
    expect(marked).not.toContain(live);
    expect((await getMessage(t.db, owner.id, queued))?.status).toBe("pending");
    expect((await getMessage(t.db, owner.id, live))?.status).toBe("streaming");
    expect((await getMessage(t.db, owner.id, expired))?.status).toBe("interrupted");
    const parts = await partsByMessageIds(t.db, owner.id, [expired]);
    expect(parts.map((p) => p.text)).toEqual(["half"]);
  });

  it("the sweep ends a STREAMING answer with no lease (left by a version before leases) once older than the lease timeout; a recent one and a queued one stay", async () => {
    const { owner, send } = await answer();
    const stale = await send();
    const recent = await send();
    const queued = await send();
    // As a version before d50d8b3 left them: streaming, no lease.
    await markStreaming(t.db, owner.id, stale);
    await markStreaming(t.db, owner.id, recent);
    await appendEvent(t.db, owner.id, stale, { type: "text_delta", payload: { text: "old" } });
    await t.db
      .update(messages)
      .set({ createdAt: sql`now() - interval '1 hour'` })
      .where(inArray(messages.id, [stale, queued]));
    const { sweep, woken } = sweepWatching(stale);

    expect(await sweep.sweep()).toEqual([stale]);
    expect(await getMessage(t.db, owner.id, stale)).toMatchObject({
      status: "interrupted",
      errorCode: "INTERRUPTED",
      lastSeq: 2,
    });
    expect((await partsByMessageIds(t.db, owner.id, [stale])).map((p) => p.text)).toEqual(["old"]);
    expect(woken).toEqual([2]);
    expect((await getMessage(t.db, owner.id, recent))?.status).toBe("streaming");
    expect((await getMessage(t.db, owner.id, queued))?.status).toBe("pending");
    // Start-up recovery on a shared database applies the same rule.
    await t.db
      .update(messages)
      .set({ createdAt: sql`now() - interval '1 hour'` })
      .where(eq(messages.id, recent));
    expect(await recoverInterrupted(t.db, { unleased: false, leaseMs: 60_000 })).toEqual([recent]);
  });

  it("handBack ends the answers given up at once, INTERRUPTED with their streamed parts, whatever their lease; others stay", async () => {
    const { owner, send } = await answer();
    const given = await send();
    const kept = await send();
    await markStreaming(t.db, owner.id, given, 60_000);
    await markStreaming(t.db, owner.id, kept, 60_000);
    await appendEvent(t.db, owner.id, given, { type: "text_delta", payload: { text: "so far" } });
    const { sweep, woken } = sweepWatching(given);

    expect(await sweep.handBack([given])).toEqual([given]);
    expect(await getMessage(t.db, owner.id, given)).toMatchObject({
      status: "interrupted",
      errorCode: "INTERRUPTED",
      leaseUntil: null,
      lastSeq: 2,
    });
    expect((await partsByMessageIds(t.db, owner.id, [given])).map((p) => p.text)).toEqual([
      "so far",
    ]);
    expect(woken).toEqual([2]);
    expect((await getMessage(t.db, owner.id, kept))?.status).toBe("streaming");
    // A message already final (cancelled meanwhile) is left as it is.
    expect(await sweep.handBack([given])).toEqual([]);
    expect(await sweep.handBack([])).toEqual([]);
  });

  it("cancelFromEvents ends an answer running elsewhere CANCELLED with its streamed parts; its writer is refused afterwards", async () => {
    const { owner, session, send } = await answer();
    const id = await send();
    await markStreaming(t.db, owner.id, id, 60_000);
    await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "so " } });
    await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "far" } });
    expect(await unfinishedInSession(t.db, owner.id, session.id)).toEqual([id]);

    const { message, event } = await cancelFromEvents(t.db, owner.id, id);
    expect(message).toMatchObject({ status: "cancelled", lastSeq: 3, leaseUntil: null });
    expect(event).toMatchObject({ seq: 3, type: "cancelled" });
    const parts = await partsByMessageIds(t.db, owner.id, [id]);
    expect(parts.map((p) => p.text)).toEqual(["so far"]);
    await expect(
      appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "!" } }),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(cancelFromEvents(t.db, owner.id, id)).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(await unfinishedInSession(t.db, owner.id, session.id)).toEqual([]);
  });

  it("the lease keeper renews what it holds and reports an answer finished elsewhere as lost", async () => {
    const { owner, send } = await answer();
    const kept = await send();
    const taken = await send();
    await markStreaming(t.db, owner.id, kept, 1000);
    await markStreaming(t.db, owner.id, taken, 1000);
    const keeper = new LeaseKeeper(t.db, 60_000);
    const lost: string[] = [];
    keeper.hold(kept, () => lost.push(kept));
    keeper.hold(taken, () => lost.push(taken));
    await cancelFromEvents(t.db, owner.id, taken);
    await keeper.renew();
    keeper.stop();
    expect(lost).toEqual([taken]);
    const renewed = await getMessage(t.db, owner.id, kept);
    expect(renewed!.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 30_000);
  });
});
