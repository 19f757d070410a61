import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendEvent,
  finishMessage,
  getMessage,
  INTERRUPTED_ERROR_CODE,
  insertExchange,
  listEvents,
  markStreaming,
  recoverInterrupted,
} from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newSession } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("crash recovery on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  it("marks what a crash left pending or streaming as interrupted, with a closing event", async () => {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const send = async () =>
      (
        await insertExchange(t.db, owner.id, {
          sessionId: session.id,
          parts: [{ kind: "text", text: "hi" }],
        })
      ).assistantMessage.id;
    const pending = await send();
    const streaming = await send();
    await markStreaming(t.db, owner.id, streaming);
    await appendEvent(t.db, owner.id, streaming, { type: "text_delta", payload: { text: "par" } });
    const complete = await send();
    await finishMessage(t.db, owner.id, complete, { status: "complete", parts: [] });
    // Leased to a live replica: not this start-up's to recover.
    const leased = await send();
    await markStreaming(t.db, owner.id, leased, new Date(Date.now() + 60_000));

    expect((await recoverInterrupted(t.db)).sort()).toEqual([pending, streaming].sort());
    expect(await getMessage(t.db, owner.id, streaming)).toMatchObject({
      status: "interrupted",
      errorCode: INTERRUPTED_ERROR_CODE,
      lastSeq: 2,
    });
    expect((await getMessage(t.db, owner.id, pending))?.completedAt).toBeInstanceOf(Date);
    expect((await listEvents(t.db, owner.id, streaming)).map((e) => [e.seq, e.type])).toEqual([
      [1, "text_delta"],
      [2, "interrupted"],
    ]);
    expect((await getMessage(t.db, owner.id, complete))?.status).toBe("complete");
    expect((await getMessage(t.db, owner.id, leased))?.status).toBe("streaming");
    expect(await recoverInterrupted(t.db)).toEqual([]);
  });
});
