import { ErrorCode } from "@padt/protocol";
import { availableDatabaseKinds } from "@padt/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listEvents } from "../src/db/repos/events.js";
import { type ExchangeInput, insertExchange } from "../src/db/repos/exchange.js";
import { getMessage, listMessages } from "../src/db/repos/messages.js";
import { partBox, partMask } from "../src/db/repos/parts.js";
import { deleteSession } from "../src/db/repos/sessions.js";
import { finishMessage, markStreaming } from "../src/db/repos/transitions.js";
import * as schema from "../src/db/schema.js";
import type { Database } from "../src/index.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newImage, newOwner, newSession } from "./helpers/fixtures.js";

async function countIn(db: Database, sessionId: string) {
  const rows = await db
    .select()
    .from(schema.messages)
    .where(eq(schema.messages.sessionId, sessionId));
  return rows.length;
}

describe.each(availableDatabaseKinds())("messages on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  async function setup() {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const image = await newImage(t.db, owner.id);
    const input: ExchangeInput = {
      sessionId: session.id,
      parts: [
        { kind: "text", text: "Where is the red square?" },
        { kind: "image", imageId: image.id },
      ],
      task: "rec",
      taskInput: { expression: "the red square" },
      options: { maxNewTokens: 64 },
    };
    return { owner, session, image, input };
  }

  it("stores the user message, its parts and the pending answer together", async () => {
    const { owner, session, image, input } = await setup();
    t.queries.count = 0;
    const ex = await insertExchange(t.db, owner.id, input);
    // The session's update, both messages in one insert, the parts (and on PostgreSQL BEGIN
    // and COMMIT, which PGlite's transactions do not send through drizzle's logger).
    expect(t.queries.count).toBe(kind === "postgres" ? 5 : 3);
    expect(ex.replayed).toBe(false);
    expect(ex.userMessage).toMatchObject({
      role: "user",
      status: "complete",
      task: "rec",
      lastSeq: 0,
    });
    expect(ex.userMessage.completedAt).toBeInstanceOf(Date);
    expect(ex.assistantMessage).toMatchObject({
      role: "assistant",
      status: "pending",
      replyToId: ex.userMessage.id,
      options: { maxNewTokens: 64 },
    });
    expect(ex.userParts.map((p) => [p.ordinal, p.kind, p.text, p.imageId])).toEqual([
      [0, "text", "Where is the red square?", null],
      [1, "image", null, image.id],
    ]);
    const history = await listMessages(t.db, owner.id, session.id, {});
    expect(history.edges.map((e) => e.node.id)).toEqual([
      ex.userMessage.id,
      ex.assistantMessage.id,
    ]);
  });

  it("writes nothing when a part fails half-way (another owner's image)", async () => {
    const { owner, session, input } = await setup();
    const other = await newOwner(t.db);
    const foreign = await newImage(t.db, other.id);
    const bad = {
      ...input,
      parts: [...input.parts, { kind: "image" as const, imageId: foreign.id }],
    };
    await expect(insertExchange(t.db, owner.id, bad)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    expect(await countIn(t.db, session.id)).toBe(0);
    const parts = await t.db
      .select()
      .from(schema.messageParts)
      .where(eq(schema.messageParts.ownerId, owner.id));
    expect(parts).toEqual([]);
  });

  it("returns the first exchange for a retried idempotency key, and refuses a different request", async () => {
    const { owner, session, input } = await setup();
    const keyed = { ...input, idempotencyKey: "send-1" };
    const first = await insertExchange(t.db, owner.id, keyed);
    // Field order does not matter: the request is hashed canonically.
    const reordered = { idempotencyKey: "send-1", options: { maxNewTokens: 64 }, ...input };
    const retry = await insertExchange(t.db, owner.id, reordered);
    expect(retry.replayed).toBe(true);
    expect([retry.userMessage.id, retry.assistantMessage.id]).toEqual([
      first.userMessage.id,
      first.assistantMessage.id,
    ]);
    expect(retry.userParts.map((p) => p.id)).toEqual(first.userParts.map((p) => p.id));
    await expect(
      insertExchange(t.db, owner.id, {
        ...keyed,
        parts: [{ kind: "text", text: "something else" }],
      }),
    ).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
    expect(await countIn(t.db, session.id)).toBe(2);
  });

  it("gives concurrent sends with one key one exchange", async () => {
    const { owner, session, input } = await setup();
    const keyed = { ...input, idempotencyKey: "double-click" };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => insertExchange(t.db, owner.id, keyed)),
    );
    expect(new Set(results.map((r) => r.assistantMessage.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await countIn(t.db, session.id)).toBe(2);
  });

  it("scopes keys, sessions and messages by owner", async () => {
    const { owner, session, input } = await setup();
    const other = await newOwner(t.db);
    const ex = await insertExchange(t.db, owner.id, { ...input, idempotencyKey: "k" });
    // Another owner cannot post into the session, read its messages or finish them.
    await expect(
      insertExchange(t.db, other.id, { ...input, parts: [{ kind: "text", text: "hi" }] }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect(await getMessage(t.db, other.id, ex.assistantMessage.id)).toBeUndefined();
    expect((await listMessages(t.db, other.id, session.id, {})).edges).toEqual([]);
    await expect(markStreaming(t.db, other.id, ex.assistantMessage.id)).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    await expect(
      finishMessage(t.db, other.id, ex.assistantMessage.id, { status: "cancelled" }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    // The same idempotency key is independent per owner.
    const otherSession = await newSession(t.db, other.id);
    const mine = await insertExchange(t.db, other.id, {
      sessionId: otherSession.id,
      parts: [{ kind: "text", text: "hi" }],
      idempotencyKey: "k",
    });
    expect(mine.replayed).toBe(false);
  });

  it("finishes an answer once, with its parts and closing event in one step", async () => {
    const { owner, image, input } = await setup();
    const ex = await insertExchange(t.db, owner.id, input);
    const id = ex.assistantMessage.id;
    expect((await markStreaming(t.db, owner.id, id)).status).toBe("streaming");
    await expect(markStreaming(t.db, owner.id, id)).rejects.toMatchObject({
      code: ErrorCode.INVALID_STATE,
    });
    const usage = {
      promptTokens: 10,
      completionTokens: 5,
      prefillMs: 1,
      decodeMs: 2,
      decoderMs: 3,
    };
    const done = await finishMessage(t.db, owner.id, id, {
      status: "complete",
      parts: [
        { kind: "text", text: "It is " },
        {
          kind: "visual_ref",
          imageId: image.id,
          refIndex: 0,
          label: "red square",
          patches: [3, 4, 9],
          box: { x: 1.5, y: 2, width: 10, height: 12.25 },
          mask: { height: 48, width: 64, counts: "abc", area: 120 },
          score: 0.93,
          decoded: true,
        },
      ],
      result: { boxes: [[1.5, 2, 10, 12.25]] },
      usage,
    });
    expect(done.message).toMatchObject({ status: "complete", usage, lastSeq: 1, leaseUntil: null });
    expect(done.event).toMatchObject({ seq: 1, type: "completed" });
    const ref = done.parts[1]!;
    expect(ref).toMatchObject({
      kind: "visual_ref",
      patches: [3, 4, 9],
      score: 0.93,
      decoded: true,
    });
    expect(partBox(ref)).toEqual({ x: 1.5, y: 2, width: 10, height: 12.25 });
    expect(partMask(ref)).toEqual({ height: 48, width: 64, counts: "abc", area: 120 });
    // A cancel arriving after completion loses: the first final status stands.
    await expect(finishMessage(t.db, owner.id, id, { status: "cancelled" })).rejects.toMatchObject({
      code: ErrorCode.INVALID_STATE,
    });
    expect((await getMessage(t.db, owner.id, id))?.status).toBe("complete");
    expect((await listEvents(t.db, owner.id, id)).map((e) => e.type)).toEqual(["completed"]);
  });

  it("leaves no trace of a finish whose parts fail", async () => {
    const { owner, input } = await setup();
    const ex = await insertExchange(t.db, owner.id, input);
    const id = ex.assistantMessage.id;
    await expect(
      finishMessage(t.db, owner.id, id, {
        status: "complete",
        parts: [{ kind: "image", imageId: "00000000-0000-7000-8000-000000000000" }],
      }),
    ).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    expect(await getMessage(t.db, owner.id, id)).toMatchObject({ status: "pending", lastSeq: 0 });
    expect(await listEvents(t.db, owner.id, id)).toEqual([]);
  });

  it("pages a history backward from the newest, and deletes it with its session", async () => {
    const { owner, session } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ex = await insertExchange(t.db, owner.id, {
        sessionId: session.id,
        parts: [{ kind: "text", text: `q${i}` }],
      });
      ids.push(ex.userMessage.id, ex.assistantMessage.id);
    }
    const latest = await listMessages(t.db, owner.id, session.id, { last: 3 });
    expect(latest.edges.map((e) => e.node.id)).toEqual(ids.slice(5));
    expect(latest.pageInfo.hasPreviousPage).toBe(true);
    const earlier = await listMessages(t.db, owner.id, session.id, {
      last: 3,
      before: latest.pageInfo.startCursor,
    });
    expect(earlier.edges.map((e) => e.node.id)).toEqual(ids.slice(2, 5));
    const forward = await listMessages(t.db, owner.id, session.id, {
      first: 4,
      after: earlier.pageInfo.endCursor,
    });
    expect(forward.edges.map((e) => e.node.id)).toEqual(ids.slice(5));

    expect(await deleteSession(t.db, owner.id, session.id)).toBe(true);
    expect(await countIn(t.db, session.id)).toBe(0);
    const parts = await t.db
      .select()
      .from(schema.messageParts)
      .where(eq(schema.messageParts.messageId, ids[0]!));
    expect(parts).toEqual([]);
  });
});
