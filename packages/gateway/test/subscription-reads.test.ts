import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../src/bus.js";
import { appendEvents } from "../src/db/repos/events.js";
import { finishMessage } from "../src/db/repos/transitions.js";
import type { Context } from "../src/graphql/context.js";
import { messageEventStream, type StreamEvent } from "../src/graphql/resolvers/subscription.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newStreamingAnswer } from "./helpers/fixtures.js";

/** Long enough for a stream that would read on to have sent its reads (never asserted on). */
const SETTLE_MS = 150;

describe.each(availableDatabaseKinds())("messageEvents reads on %s", (kind) => {
  let t: OpenDatabase;
  let bus: Bus;
  const watching: string[] = [];
  beforeAll(async () => {
    t = await openDatabase(kind);
    bus = createBus();
  });
  afterAll(() => t?.close());

  // The stream needs the database, the bus and somewhere to report its subscriber: a unit
  // test of the resolver's stream, so the runner is a recorder.
  const contextFor = (owner: Context["owner"]) =>
    ({
      owner,
      services: {
        db: t.db,
        bus,
        runner: {
          subscriberJoined: (id: string) => watching.push(`+${id}`),
          subscriberLeft: (id: string) => watching.push(`-${id}`),
        },
      },
    }) as unknown as Context;

  async function streamTheRest(messageId: string, ownerId: string) {
    const rows = await appendEvents(t.db, ownerId, messageId, [
      { type: "text_delta", payload: { text: "a" } },
      { type: "text_delta", payload: { text: "b" } },
    ]);
    bus.messages.publish(messageId, rows.at(-1)!.seq);
    const { message } = await finishMessage(t.db, ownerId, messageId, {
      status: "complete",
      parts: [{ kind: "text", text: "ab" }],
    });
    bus.messages.publish(messageId, message.lastSeq);
  }

  const collect = async (stream: AsyncIterableIterator<StreamEvent>, first: StreamEvent[]) => {
    const seen = [...first];
    for await (const e of stream) seen.push(e);
    return seen.map((e) => [e.seq, e.type]);
  };

  it("reads only the message when nothing is stored after afterSeq, then streams what comes", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    t.queries.count = 0;
    const stream = await messageEventStream(contextFor(owner), id, 0);
    const next = stream.next();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    // The message's read; before, an empty events read and a second read of the message.
    expect(t.queries.count).toBe(1);
    await streamTheRest(id, owner.id);
    const first = await next;
    expect(first.done).toBe(false);
    expect(await collect(stream, [first.value as StreamEvent])).toEqual([
      [1, "text_delta"],
      [2, "text_delta"],
      [3, "completed"],
    ]);
    expect(watching.slice(-2)).toEqual([`+${id}`, `-${id}`]);
  });

  it("is woken by events of a message whose id was given in upper case", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    const stream = await messageEventStream(contextFor(owner), id.toUpperCase(), 0);
    const next = stream.next();
    await streamTheRest(id, owner.id);
    const first = await next;
    expect(await collect(stream, [first.value as StreamEvent])).toEqual([
      [1, "text_delta"],
      [2, "text_delta"],
      [3, "completed"],
    ]);
  });

  it("replays what is stored after afterSeq, and ends at once for a finished message read to its end", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    await streamTheRest(id, owner.id);
    const resumed = await messageEventStream(contextFor(owner), id, 1);
    expect(await collect(resumed, [])).toEqual([
      [2, "text_delta"],
      [3, "completed"],
    ]);
    t.queries.count = 0;
    const done = await messageEventStream(contextFor(owner), id, 3);
    expect(await collect(done, [])).toEqual([]);
    expect(t.queries.count).toBe(1);
  });

  it("hands a subscriber what this process wrote without reading it back", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    const stream = await messageEventStream(contextFor(owner), id, 0);
    await streamTheRest(id, owner.id); // its wake-ups wait in the stream's queue
    t.queries.count = 0;
    expect(await collect(stream, [])).toEqual([
      [1, "text_delta"],
      [2, "text_delta"],
      [3, "completed"],
    ]);
    expect(t.queries.count).toBe(0);
  });

  it("reads the table for events this process did not write, and stays in order without gaps", async () => {
    const { owner, id } = await newStreamingAnswer(t.db);
    const stream = await messageEventStream(contextFor(owner), id, 0);
    const seen: [number, string][] = [];
    const consumed = (async () => {
      for await (const e of stream) seen.push([e.seq, e.type]);
    })();
    const text = (x: string) => [{ type: "text_delta" as const, payload: { text: x } }];
    const announce = (rows: { seq: number }[]) => bus.messages.publish(id, rows.at(-1)!.seq);
    announce(await appendEvents(t.db, owner.id, id, text("a"))); // kept in memory
    // Written where this process's memory does not see it (as another replica's write).
    announce(await t.db.transaction((tx) => appendEvents(tx, owner.id, id, text("b"))));
    announce(await appendEvents(t.db, owner.id, id, text("c")));
    const { message } = await finishMessage(t.db, owner.id, id, {
      status: "complete",
      parts: [{ kind: "text", text: "abc" }],
    });
    bus.messages.publish(id, message.lastSeq);
    await consumed;
    expect(seen).toEqual([
      [1, "text_delta"],
      [2, "text_delta"],
      [3, "text_delta"],
      [4, "completed"],
    ]);
  });
});
