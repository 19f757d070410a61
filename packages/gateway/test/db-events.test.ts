import { ErrorCode } from "@padt/protocol";
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvent, appendEvents, listEvents } from "../src/db/repos/events.js";
import { getMessage } from "../src/db/repos/messages.js";
import { deleteSession } from "../src/db/repos/sessions.js";
import { finishMessage } from "../src/db/repos/transitions.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner, newStreamingAnswer } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("message events on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  const streaming = () => newStreamingAnswer(t.db);

  it("lets the event loop run between the appends of a writer that never pauses", async () => {
    // PGlite answers as a microtask; without a yield per statement a tight loop of appends
    // kept timers, sockets and engine messages waiting until it ended.
    const { owner, id } = await streaming();
    const n = 30;
    let written = 0;
    let writtenWhenTimerRan = -1;
    setTimeout(() => {
      writtenWhenTimerRan = written;
    }, 0);
    for (let i = 0; i < n; i++) {
      await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: `t${i}` } });
      written++;
    }
    expect(writtenWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(writtenWhenTimerRan).toBeLessThan(n);
  });

  it("numbers concurrent appends 1..n without gaps or repeats", async () => {
    const { owner, id } = await streaming();
    const n = 40;
    const appended = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: `t${i}` } }),
      ),
    );
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: n }, (_, i) => i + 1),
    );
    expect((await getMessage(t.db, owner.id, id))?.lastSeq).toBe(n);
    const done = await finishMessage(t.db, owner.id, id, { status: "complete", parts: [] });
    expect(done.event.seq).toBe(n + 1);
  });

  it("stores a batch under consecutive seqs, in order, in one statement", async () => {
    const { owner, id } = await streaming();
    await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "a" } });
    const batch = await appendEvents(t.db, owner.id, id, [
      { type: "text_delta", payload: { text: "b" } },
      { type: "visual_ref_started", payload: { ref: { index: 0 } } },
      { type: "text_delta", payload: { text: "c" } },
    ]);
    expect(batch.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [2, "text_delta", { text: "b" }],
      [3, "visual_ref_started", { ref: { index: 0 } }],
      [4, "text_delta", { text: "c" }],
    ]);
    expect(batch.every((e) => e.createdAt instanceof Date && e.messageId === id)).toBe(true);
    expect((await getMessage(t.db, owner.id, id))?.lastSeq).toBe(4);
    expect(await appendEvents(t.db, owner.id, id, [])).toEqual([]);
    // A subscriber resuming in the middle of the batch gets its rest: no gap, no repeat.
    expect((await listEvents(t.db, owner.id, id, { afterSeq: 2 })).map((e) => e.seq)).toEqual([
      3, 4,
    ]);
  });

  it("keeps each of concurrent batches contiguous, with no gap or repeat between them", async () => {
    const { owner, id } = await streaming();
    const sizes = [3, 1, 5, 2, 4, 1, 3];
    const batches = await Promise.all(
      sizes.map((size, b) =>
        appendEvents(
          t.db,
          owner.id,
          id,
          Array.from({ length: size }, (_, i) => ({
            type: "text_delta" as const,
            payload: { text: `${b}.${i}` },
          })),
        ),
      ),
    );
    for (const [b, rows] of batches.entries()) {
      expect(rows.map((r) => (r.payload as { text: string }).text)).toEqual(
        Array.from({ length: sizes[b]! }, (_, i) => `${b}.${i}`),
      );
      expect(rows.map((r) => r.seq - rows[0]!.seq)).toEqual(rows.map((_, i) => i));
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(
      batches
        .flat()
        .map((r) => r.seq)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect((await listEvents(t.db, owner.id, id)).length).toBe(total);
  });

  it("refuses a whole batch once the message has ended, writing none of it", async () => {
    const { owner, id } = await streaming();
    await finishMessage(t.db, owner.id, id, { status: "cancelled" });
    await expect(
      appendEvents(t.db, owner.id, id, [
        { type: "text_delta", payload: { text: "late" } },
        { type: "text_delta", payload: { text: "later" } },
      ]),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    expect((await listEvents(t.db, owner.id, id)).map((e) => e.type)).toEqual(["cancelled"]);
    expect((await getMessage(t.db, owner.id, id))?.lastSeq).toBe(1);
  });

  it("stores the writer's last events with the end, in one statement, before the closing event", async () => {
    const { owner, id } = await streaming();
    await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "a" } });
    t.queries.count = 0;
    const done = await finishMessage(
      t.db,
      owner.id,
      id,
      { status: "complete", parts: [{ kind: "text", text: "abc" }], usage: null },
      [
        { type: "text_delta", payload: { text: "b" } },
        { type: "text_delta", payload: { text: "c" } },
      ],
    );
    expect(t.queries.count).toBe(1);
    expect(done.events.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [2, "text_delta", { text: "b" }],
      [3, "text_delta", { text: "c" }],
      [4, "completed", { usage: null }],
    ]);
    expect(done.event).toEqual(done.events[2]);
    expect(done.message).toMatchObject({ id, status: "complete", lastSeq: 4, leaseUntil: null });
    expect(done.message.completedAt).toBeInstanceOf(Date);
    expect(done.parts.map((p) => [p.ordinal, p.kind, p.text, p.messageId])).toEqual([
      [0, "text", "abc", id],
    ]);
    // What was stored is what the statement returned, after the events streamed before it.
    expect(await listEvents(t.db, owner.id, id)).toEqual([
      expect.objectContaining({ seq: 1, payload: { text: "a" } }),
      ...done.events,
    ]);
    expect(await getMessage(t.db, owner.id, id)).toEqual(done.message);
  });

  it("writes none of the last events when the end is refused or its parts fail", async () => {
    const { owner, id } = await streaming();
    const tail = [{ type: "text_delta" as const, payload: { text: "late" } }];
    await expect(
      finishMessage(
        t.db,
        owner.id,
        id,
        {
          status: "complete",
          parts: [{ kind: "image", imageId: "00000000-0000-7000-8000-000000000000" }],
        },
        tail,
      ),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect(await getMessage(t.db, owner.id, id)).toMatchObject({ status: "streaming", lastSeq: 0 });
    expect(await listEvents(t.db, owner.id, id)).toEqual([]);
    await finishMessage(t.db, owner.id, id, { status: "cancelled" });
    await expect(
      finishMessage(t.db, owner.id, id, { status: "complete", parts: [] }, tail),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    expect((await listEvents(t.db, owner.id, id)).map((e) => e.type)).toEqual(["cancelled"]);
    expect((await getMessage(t.db, owner.id, id))?.lastSeq).toBe(1);
  });

  it("replays the events after a given seq, in order", async () => {
    const { owner, id } = await streaming();
    for (const text of ["a", "b", "c", "d"]) {
      await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text } });
    }
    const after2 = await listEvents(t.db, owner.id, id, { afterSeq: 2 });
    expect(after2.map((e) => [e.seq, e.payload])).toEqual([
      [3, { text: "c" }],
      [4, { text: "d" }],
    ]);
    expect(await listEvents(t.db, owner.id, id, { afterSeq: 4 })).toEqual([]);
    expect((await listEvents(t.db, owner.id, id, { limit: 1 })).map((e) => e.seq)).toEqual([1]);
  });

  it("keeps another owner from reading or writing the stream", async () => {
    const { owner, id } = await streaming();
    const other = await newOwner(t.db);
    await appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "secret" } });
    expect(await listEvents(t.db, other.id, id)).toEqual([]);
    await expect(
      appendEvent(t.db, other.id, id, { type: "text_delta", payload: { text: "injected" } }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect((await listEvents(t.db, owner.id, id)).map((e) => e.payload)).toEqual([
      { text: "secret" },
    ]);
  });

  it("refuses events once the message has ended or is gone", async () => {
    const { owner, session, id } = await streaming();
    await finishMessage(t.db, owner.id, id, { status: "cancelled" });
    await expect(
      appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "late" } }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    expect((await listEvents(t.db, owner.id, id)).map((e) => e.type)).toEqual(["cancelled"]);
    await deleteSession(t.db, owner.id, session.id);
    await expect(
      appendEvent(t.db, owner.id, id, { type: "text_delta", payload: { text: "later" } }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(
      appendEvent(t.db, owner.id, "nonsense", { type: "text_delta", payload: {} }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });
});
