import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadHistory } from "../src/conversation/history.js";
import { insertExchange } from "../src/db/repos/exchange.js";
import { getMessage } from "../src/db/repos/messages.js";
import { partsByMessageIds } from "../src/db/repos/parts.js";
import { recentMessagesWithParts } from "../src/db/repos/recent_messages.js";
import { finishMessage, markStreaming } from "../src/db/repos/transitions.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newImage, newOwner, newSession } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("a session's recent messages on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  async function chat() {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    const image = await newImage(t.db, owner.id);
    const first = await insertExchange(t.db, owner.id, {
      sessionId: session.id,
      parts: [
        { kind: "text", text: "Where is it?" },
        { kind: "image", imageId: image.id },
      ],
    });
    await markStreaming(t.db, owner.id, first.assistantMessage.id);
    await finishMessage(t.db, owner.id, first.assistantMessage.id, {
      status: "complete",
      parts: [
        { kind: "text", text: "Here: " },
        { kind: "visual_ref", imageId: image.id, refIndex: 0, patches: [4, 5], label: "it" },
      ],
    });
    // A second turn whose answer is still pending (no parts yet).
    const second = await insertExchange(t.db, owner.id, {
      sessionId: session.id,
      parts: [{ kind: "text", text: "And now?" }],
    });
    return { owner, session, first, second };
  }

  it("reads the messages, oldest first, each with its parts in order, in one statement", async () => {
    const { owner, session, first, second } = await chat();
    t.queries.count = 0;
    const recent = await recentMessagesWithParts(t.db, owner.id, session.id, 100);
    expect(t.queries.count).toBe(1);
    const ids = [
      first.userMessage,
      first.assistantMessage,
      second.userMessage,
      second.assistantMessage,
    ].map((m) => m.id);
    expect(recent.map((r) => r.message.id)).toEqual(ids);
    // The same rows, typed the same, as the query builder's reads give.
    for (const r of recent) {
      expect(r.message).toEqual(await getMessage(t.db, owner.id, r.message.id));
      expect(r.parts).toEqual(await partsByMessageIds(t.db, owner.id, [r.message.id]));
    }
    expect(recent.map((r) => r.parts.length)).toEqual([2, 2, 1, 0]);
    expect(recent[1]!.parts[1]).toMatchObject({
      kind: "visual_ref",
      patches: [4, 5],
      decoded: false,
    });
    // The last `limit` of them; none for another owner.
    expect(
      (await recentMessagesWithParts(t.db, owner.id, session.id, 3)).map((r) => r.message.id),
    ).toEqual(ids.slice(1));
    const other = await newOwner(t.db);
    expect(await recentMessagesWithParts(t.db, other.id, session.id, 100)).toEqual([]);
    expect(await recentMessagesWithParts(t.db, owner.id, "not-a-uuid", 100)).toEqual([]);
  });

  it("gives the history a new message continues: user turns and completed answers", async () => {
    const { owner, session, first, second } = await chat();
    const history = await loadHistory(t.db, owner.id, session.id);
    expect(history.messages.map((m) => m.id)).toEqual([
      first.userMessage.id,
      first.assistantMessage.id,
      second.userMessage.id,
    ]);
    expect(history.parts.get(first.assistantMessage.id)?.map((p) => p.kind)).toEqual([
      "text",
      "visual_ref",
    ]);
    const before = await loadHistory(t.db, owner.id, session.id, { before: second.userMessage.id });
    expect(before.messages.map((m) => m.id)).toEqual([
      first.userMessage.id,
      first.assistantMessage.id,
    ]);
  });
});
