import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertExchange } from "../src/db/repos/exchange.js";
import { createLoaders } from "../src/db/repos/loaders.js";
import { listMessages } from "../src/db/repos/messages.js";
import { finishMessage } from "../src/db/repos/transitions.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newImage, newOwner, newSession } from "./helpers/fixtures.js";

describe.each(availableDatabaseKinds())("batch loaders on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  /** A session of `exchanges` question/answer pairs, each citing its own image. */
  async function history(exchanges: number) {
    const owner = await newOwner(t.db);
    const session = await newSession(t.db, owner.id);
    for (let i = 0; i < exchanges; i++) {
      const image = await newImage(t.db, owner.id);
      const ex = await insertExchange(t.db, owner.id, {
        sessionId: session.id,
        parts: [
          { kind: "text", text: `find ${i}` },
          { kind: "image", imageId: image.id },
        ],
      });
      await finishMessage(t.db, owner.id, ex.assistantMessage.id, {
        status: "complete",
        parts: [
          { kind: "text", text: "here: " },
          { kind: "visual_ref", imageId: image.id, refIndex: 0, label: "it", patches: [i] },
        ],
      });
    }
    return { owner, session };
  }

  /** What a GraphQL history query resolves: a page, then parts, refs and images of each message. */
  async function resolvePage(ownerId: string, sessionId: string, last: number) {
    const loaders = createLoaders(t.db, ownerId);
    t.queries.count = 0;
    const page = await listMessages(t.db, ownerId, sessionId, { last });
    const ids = page.edges.map((e) => e.node.id);
    const [parts, refs] = await Promise.all([
      Promise.all(ids.map((id) => loaders.partsByMessageId.load(id))),
      Promise.all(ids.map((id) => loaders.refsByMessageId.load(id))),
    ]);
    const imageIds = parts.flat().flatMap((p) => (p.imageId ? [p.imageId] : []));
    const images = await Promise.all(imageIds.map((id) => loaders.imageById.load(id)));
    return { messages: ids.length, parts, refs, images, queries: t.queries.count };
  }

  it("load a page's parts, references and images in a fixed number of queries", async () => {
    const small = await history(2);
    const large = await history(9);
    const a = await resolvePage(small.owner.id, small.session.id, 4);
    const b = await resolvePage(large.owner.id, large.session.id, 18);
    expect([a.messages, b.messages]).toEqual([4, 18]);
    expect(b.parts.flat()).toHaveLength(36);
    expect(b.refs.map((r) => r.length)).toEqual(Array.from({ length: 18 }, (_, i) => i % 2));
    expect(b.images.every((img) => img !== null)).toBe(true);
    // One query for the page, one for the parts (refs are read from them), one for the images.
    expect(a.queries).toBe(3);
    expect(b.queries).toBe(3);
  });

  it("answer null for another owner's rows", async () => {
    const { owner, session } = await history(1);
    const other = await newOwner(t.db);
    const page = await listMessages(t.db, owner.id, session.id, {});
    const id = page.edges[0]!.node.id;
    const loaders = createLoaders(t.db, other.id, { cache: false });
    expect(await loaders.messageById.load(id)).toBeNull();
    expect(await loaders.sessionById.load(session.id)).toBeNull();
    expect(await loaders.partsByMessageId.load(id)).toEqual([]);
    const mine = createLoaders(t.db, owner.id);
    const imageId = (await mine.partsByMessageId.load(id)).find((p) => p.imageId)!.imageId!;
    expect(await loaders.imageById.load(imageId)).toBeNull();
    expect((await mine.imageById.load(imageId))?.id).toBe(imageId);
  });
});
