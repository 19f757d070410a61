import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverInterrupted } from "../src/db/recover.js";
import { appendEvent } from "../src/db/repos/events.js";
import { insertExchange } from "../src/db/repos/exchange.js";
import { renewLeases } from "../src/db/repos/leases.js";
import { getMessage } from "../src/db/repos/messages.js";
import { partsByMessageIds } from "../src/db/repos/parts.js";
import { finishMessage, markStreaming } from "../src/db/repos/transitions.js";
import { cancelFromEvents, unfinishedInSession } from "../src/db/repos/unfinished.js";
import { LeaseKeeper } from "../src/generation/lease_keeper.js";
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
