import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RefPayload } from "../src/conversation/events.js";
import { listEvents } from "../src/db/repos/events.js";
import { finishMessage } from "../src/db/repos/transitions.js";
import { EventWriter } from "../src/generation/writer.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newStreamingAnswer } from "./helpers/fixtures.js";

const ref = (index: number, patches: number[]): RefPayload => ({
  index,
  label: null,
  imageId: "00000000-0000-4000-8000-000000000000",
  patches,
  decoded: false,
  box: null,
  mask: null,
  score: null,
});

describe.each(availableDatabaseKinds())("the event writer on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  async function streaming() {
    const { owner, id } = await newStreamingAnswer(t.db);
    return { ownerId: owner.id, id };
  }

  it("writes the events of one turn in one statement, with one wake-up for the batch", async () => {
    const { ownerId, id } = await streaming();
    const woken: number[] = [];
    const writer = new EventWriter(t.db, ownerId, id, (seq) => woken.push(seq));
    t.queries.count = 0;
    writer.text("The ");
    writer.refStarted(ref(0, [1]));
    writer.refStarted(ref(0, [1, 2]));
    writer.refDecoded(ref(0, [1, 2]));
    writer.text("circle");
    await writer.flush();
    expect(t.queries.count).toBe(1);
    expect(woken).toEqual([4]);
    const rows = await listEvents(t.db, ownerId, id);
    expect(rows.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [1, "text_delta", { text: "The " }],
      [2, "visual_ref_started", { ref: ref(0, [1, 2]) }],
      [3, "visual_ref_decoded", { ref: ref(0, [1, 2]) }],
      [4, "text_delta", { text: "circle" }],
    ]);
  });

  it("streams later turns in later batches, in order, each wake-up the batch's last seq", async () => {
    const { ownerId, id } = await streaming();
    const woken: number[] = [];
    const writer = new EventWriter(t.db, ownerId, id, (seq) => woken.push(seq));
    const texts: string[] = [];
    for (let turn = 0; turn < 12; turn++) {
      writer.text(`t${turn} `);
      texts.push(`t${turn} `);
      if (turn % 3 === 2) writer.refDecoded(ref(turn, [turn]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer.flush();
    const rows = await listEvents(t.db, ownerId, id);
    expect(rows.map((e) => e.seq)).toEqual(rows.map((_, i) => i + 1));
    const streamed = rows
      .filter((e) => e.type === "text_delta")
      .map((e) => (e.payload as { text: string }).text)
      .join("");
    expect(streamed).toBe(texts.join(""));
    expect(rows.filter((e) => e.type === "visual_ref_decoded").length).toBe(4);
    expect(woken.at(-1)).toBe(rows.length);
    expect(woken).toEqual([...new Set(woken)].sort((a, b) => a - b));
  });

  /**
   * A writer whose interval no test outlasts, once its first event ("a") is written: what is
   * queued next goes out only on a flush (or to the end, after a pause).
   */
  async function writerPastFirstWrite() {
    const { ownerId, id } = await streaming();
    const woken: number[] = [];
    const writer = new EventWriter(
      t.db,
      ownerId,
      id,
      (seq) => woken.push(seq),
      undefined,
      3_600_000,
    );
    writer.text("a");
    await vi.waitFor(() => expect(woken).toEqual([1]));
    return { ownerId, id, woken, writer };
  }

  it("gathers what arrives within the interval after a write into the next statement", async () => {
    const { ownerId, id, woken, writer } = await writerPastFirstWrite();
    t.queries.count = 0;
    writer.text("b");
    writer.refDecoded(ref(0, [3]));
    writer.text("c");
    await writer.flush();
    expect(woken).toEqual([1, 4]);
    expect(t.queries.count).toBe(1);
    expect((await listEvents(t.db, ownerId, id)).map((e) => e.payload)).toEqual([
      { text: "a" },
      { text: "b" },
      { ref: ref(0, [3]) },
      { text: "c" },
    ]);
  });

  it("hands what it has not written to the answer's end, which stores it in the same statement", async () => {
    const { ownerId, id, woken, writer } = await writerPastFirstWrite();
    writer.text("b");
    writer.refDecoded(ref(0, [3]));
    t.queries.count = 0;
    // Within the interval: nothing more is written; the queue goes to finishMessage.
    await writer.pause();
    const tail = writer.takeQueued();
    expect(tail).toEqual([
      { type: "text_delta", payload: { text: "b" } },
      { type: "visual_ref_decoded", payload: { ref: ref(0, [3]) } },
    ]);
    const done = await finishMessage(t.db, ownerId, id, { status: "cancelled", parts: [] }, tail);
    expect(t.queries.count).toBe(1);
    expect(woken).toEqual([1]);
    expect(done.events.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await listEvents(t.db, ownerId, id)).map((e) => e.type)).toEqual([
      "text_delta",
      "text_delta",
      "visual_ref_decoded",
      "cancelled",
    ]);
    expect(writer.takeQueued()).toEqual([]);
  });

  it("writes what it held when flushed after a pause", async () => {
    const { ownerId, id } = await streaming();
    const writer = new EventWriter(t.db, ownerId, id, () => {}, undefined, 3_600_000);
    writer.text("a");
    await writer.pause();
    writer.text("b");
    await writer.flush();
    expect(writer.takeQueued()).toEqual([]);
    expect((await listEvents(t.db, ownerId, id)).map((e) => e.payload)).toEqual([{ text: "ab" }]);
  });

  it("stops at the first refused batch and reports it", async () => {
    const { ownerId, id } = await streaming();
    const writer = new EventWriter(t.db, ownerId, id, () => {});
    writer.text("before");
    await writer.flush();
    await finishMessage(t.db, ownerId, id, { status: "cancelled", parts: [] });
    writer.text("after");
    writer.refDecoded(ref(0, [1]));
    await writer.flush();
    expect(writer.error).toMatchObject({ code: "INVALID_STATE" });
    writer.text("ignored");
    await writer.flush();
    expect((await listEvents(t.db, ownerId, id)).map((e) => e.type)).toEqual([
      "text_delta",
      "cancelled",
    ]);
  });
});
