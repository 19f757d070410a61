import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/db/hash.js";
import { getImage, getImageWithData, imagesByIds, putImage } from "../src/db/repos/images.js";
import { type OpenDatabase, openDatabase } from "./helpers/database.js";
import { newOwner } from "./helpers/fixtures.js";

const png = (text: string) => ({
  bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255, ...new TextEncoder().encode(text)]),
  width: 10,
  height: 20,
  mimeType: "image/png",
});

describe.each(availableDatabaseKinds())("images on %s", (kind) => {
  let t: OpenDatabase;
  beforeAll(async () => {
    t = await openDatabase(kind);
  });
  afterAll(() => t?.close());

  it("stores bytes once per owner and content", async () => {
    const owner = await newOwner(t.db);
    const input = png("one");
    const first = await putImage(t.db, owner.id, input);
    expect(first).toMatchObject({
      sha256: sha256Hex(input.bytes),
      byteSize: input.bytes.length,
      width: 10,
    });
    expect(first).not.toHaveProperty("data");
    expect(first).toEqual(await getImage(t.db, owner.id, first.id));
    t.queries.count = 0;
    const again = await putImage(t.db, owner.id, input);
    // The same bytes again: one statement finds the stored row.
    expect(t.queries.count).toBe(1);
    expect(again).toEqual(first);
    const full = await getImageWithData(t.db, owner.id, first.id);
    expect(Buffer.from(full!.data!).equals(Buffer.from(input.bytes))).toBe(true);
    expect(full!.data).toBeInstanceOf(Uint8Array);
  });

  it("ends concurrent uploads of the same bytes with one row", async () => {
    const owner = await newOwner(t.db);
    const rows = await Promise.all(
      Array.from({ length: 6 }, () => putImage(t.db, owner.id, png("race"))),
    );
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
  });

  it("keeps owners apart, even for identical bytes", async () => {
    const a = await newOwner(t.db);
    const b = await newOwner(t.db);
    const imageA = await putImage(t.db, a.id, png("shared"));
    const imageB = await putImage(t.db, b.id, png("shared"));
    expect(imageB.id).not.toBe(imageA.id);
    expect(await getImage(t.db, b.id, imageA.id)).toBeUndefined();
    expect(await getImageWithData(t.db, b.id, imageA.id)).toBeUndefined();
    expect((await imagesByIds(t.db, b.id, [imageA.id, imageB.id])).map((i) => i.id)).toEqual([
      imageB.id,
    ]);
  });

  it("keeps the engine's grid with the row; a row stored without one takes the next upload's", async () => {
    const owner = await newOwner(t.db);
    const withGrid = await putImage(t.db, owner.id, {
      ...png("grid"),
      grid: { gridWidth: 8, gridHeight: 8 },
    });
    expect(await getImage(t.db, owner.id, withGrid.id)).toMatchObject({
      gridWidth: 8,
      gridHeight: 8,
    });
    const legacy = await putImage(t.db, owner.id, png("legacy"));
    expect(legacy).toMatchObject({ gridWidth: null, gridHeight: null });
    const filled = await putImage(t.db, owner.id, {
      ...png("legacy"),
      grid: { gridWidth: 3, gridHeight: 5 },
    });
    expect(filled).toMatchObject({ id: legacy.id, gridWidth: 3, gridHeight: 5 });
    // A recorded grid stays: one image row has one grid.
    const again = await putImage(t.db, owner.id, {
      ...png("legacy"),
      grid: { gridWidth: 9, gridHeight: 9 },
    });
    expect(again).toMatchObject({ id: legacy.id, gridWidth: 3, gridHeight: 5 });
  });

  it("can leave the bytes to an object store", async () => {
    const owner = await newOwner(t.db);
    const image = await putImage(t.db, owner.id, {
      ...png("elsewhere"),
      storageKey: "s3://bucket/abc",
    });
    expect(image.storageKey).toBe("s3://bucket/abc");
    expect((await getImageWithData(t.db, owner.id, image.id))?.data).toBeNull();
  });
});
