import { ErrorCode } from "@padt/protocol";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverInterrupted } from "../src/db/recover.js";
import { appendEvent, listEvents } from "../src/db/repos/events.js";
import { insertExchange } from "../src/db/repos/exchange.js";
import { putImage } from "../src/db/repos/images.js";
import { getMessage } from "../src/db/repos/messages.js";
import { partsByMessageIds } from "../src/db/repos/parts.js";
import { finishMessage, markStreaming } from "../src/db/repos/transitions.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newSession } from "./helpers/fixtures.js";
import { png } from "./helpers/png.js";

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
      errorCode: ErrorCode.INTERRUPTED,
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

  it("keeps the partial answer its events hold, in the message's parts (issue 14.8)", async () => {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const image = await putImage(t.db, owner.id, {
      bytes: png(56, 56, 3),
      width: 56,
      height: 56,
      mimeType: "image/png",
    });
    const id = (
      await insertExchange(t.db, owner.id, {
        sessionId: session.id,
        parts: [{ kind: "image", imageId: image.id }],
      })
    ).assistantMessage.id;
    await markStreaming(t.db, owner.id, id);
    const ref = {
      index: 0,
      label: "red circle",
      imageId: image.id,
      patches: [3],
      decoded: false,
      box: null,
      mask: null,
      score: null,
    };
    const decoded = { ...ref, patches: [3, 4], decoded: true, score: 0.5 };
    const box = { x: 1, y: 2, width: 3, height: 4 };
    for (const [type, payload] of [
      ["text_delta", { text: 'The "red' }],
      ["text_delta", { text: ' circle" ' }],
      ["visual_ref_started", { ref }],
      ["visual_ref_decoded", { ref: { ...decoded, box } }],
      ["text_delta", { text: " is her" }],
    ] as const) {
      await appendEvent(t.db, owner.id, id, { type, payload });
    }

    expect(await recoverInterrupted(t.db)).toEqual([id]);
    expect((await getMessage(t.db, owner.id, id))?.status).toBe("interrupted");
    const parts = await partsByMessageIds(t.db, owner.id, [id]);
    expect(parts.map((p) => [p.kind, p.text, p.refIndex, p.patches, p.decoded])).toEqual([
      ["text", 'The "red circle" ', null, null, false],
      ["visual_ref", null, 0, [3, 4], true],
      ["text", " is her", null, null, false],
    ]);
    expect(parts[1]).toMatchObject({ label: "red circle", boxX: 1, boxHeight: 4, score: 0.5 });
  });
});
