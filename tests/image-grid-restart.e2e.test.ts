/**
 * An uploaded image's patch grid is the engine's answer, kept with the image row (issue 15):
 * after the gateway restarts on the same database, the grid fields, the patch checks and the
 * box-to-patch mapping still use it. On the shipped Shapes bundle (no pre-resize) a 224x224
 * image is 8x8 cells, where the engine's defaults (long side 644) would give 23x23.
 */
import { PadtEngine } from "@padt/engine";
import {
  connect,
  createApiKey,
  createOwner,
  type DatabaseHandle,
  type Gateway,
  migrate,
  startGateway,
} from "@padt/gateway";
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getImage, putImage } from "../packages/gateway/src/db/repos/images.js";
import { graphqlOver } from "./helpers/e2e-gateway.js";
import { shapesPng } from "./helpers/shapes-png.js";

const bundle = new URL("../models/padt-tiny-shapes", import.meta.url).pathname;

let engine: PadtEngine;
beforeAll(async () => {
  engine = await PadtEngine.load({ bundle, threads: 1 });
});
afterAll(() => engine?.close());

const IMAGE = `query($id: ID!) { node(id: $id) { ... on Image { width height gridWidth gridHeight } } }`;
const SEND = `mutation($s: ID!, $i: ID!, $ref: VisualRefInput!) {
  sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }, { text: "this " }, { visualRef: $ref }], options: { maxNewTokens: 1 } }) {
    userMessage { parts { ... on VisualRefPart { ref { patches } } } } } }`;

describe.each(availableDatabaseKinds())("image grids across a restart on %s", (kind) => {
  let db: TestDatabase;
  let handle: DatabaseHandle;
  let gateway: Gateway | undefined;
  let key: string;
  let ownerId: string;
  const start = async () => {
    gateway = await startGateway({
      engine,
      database: handle,
      localKey: false,
      port: 0,
      host: "127.0.0.1",
    });
    return graphqlOver(gateway.url, key);
  };
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    handle = await connect(db.kind === "postgres" ? { url: db.url } : { pglite: db.client });
    await migrate(handle);
    ownerId = (await createOwner(handle.db, `grid-${kind}`)).id;
    key = (await createApiKey(handle.db, ownerId)).key;
  });
  afterAll(async () => {
    await gateway?.close();
    await handle?.close();
    await db?.drop();
  });

  it("keeps the engine's grid of a 224x224 upload (8x8 on Shapes)", async () => {
    const bytes = shapesPng(224, 224);
    const engineGrid = await engine.inspectImage(bytes);
    expect([engineGrid.gridWidth, engineGrid.gridHeight]).toEqual([8, 8]);

    let gql = await start();
    const upload = await gql(
      `mutation($b: String!) { uploadImage(input: {base64: $b}) { id gridWidth gridHeight } }`,
      { b: Buffer.from(bytes).toString("base64") },
    );
    expect(upload.errors).toBeUndefined();
    const id = upload.data?.uploadImage.id as string;
    expect(upload.data?.uploadImage).toMatchObject({ gridWidth: 8, gridHeight: 8 });
    await gateway!.close();
    gateway = undefined;

    // A new gateway process state on the same database: nothing remembered but the rows.
    gql = await start();
    const image = await gql(IMAGE, { id });
    expect(image.errors).toBeUndefined();
    expect(image.data?.node).toEqual({
      width: 224,
      height: 224,
      gridWidth: engineGrid.gridWidth,
      gridHeight: engineGrid.gridHeight,
    });

    const session = (await gql(`mutation { createSession(input: {title: "grid"}) { id } }`)).data
      ?.createSession.id;
    // The last cell of an 8x8 grid is 63; 64 lies outside it.
    const last = await gql(SEND, { s: session, i: id, ref: { imageId: id, patches: [63] } });
    expect(last.errors).toBeUndefined();
    const outside = await gql(SEND, { s: session, i: id, ref: { imageId: id, patches: [64] } });
    expect(outside.errors?.[0]?.extensions?.code).toBe("VISUAL_REF_INVALID");
    // The lower-right quarter of the image is the lower-right 4x4 cells of the 8x8 grid.
    const box = await gql(SEND, {
      s: session,
      i: id,
      ref: { imageId: id, box: { x: 112, y: 112, width: 112, height: 112 } },
    });
    expect(box.errors).toBeUndefined();
    const patches = box.data?.sendMessage.userMessage.parts.find((p: { ref?: unknown }) => p.ref)
      .ref.patches;
    expect(patches).toEqual([4, 5, 6, 7].flatMap((r) => [4, 5, 6, 7].map((c) => r * 8 + c)));
  });

  it("gives a row stored before grids were recorded the engine's grid, and keeps it", async () => {
    const bytes = shapesPng(252, 224);
    const want = await engine.inspectImage(bytes);
    const legacy = await putImage(handle.db, ownerId, {
      bytes: want.bytes,
      width: want.width,
      height: want.height,
      mimeType: want.mimeType,
    });
    expect(legacy.gridWidth).toBeNull();
    const gql = gateway ? graphqlOver(gateway.url, key) : await start();
    const image = await gql(IMAGE, { id: legacy.id });
    expect(image.errors).toBeUndefined();
    expect(image.data?.node).toMatchObject({
      gridWidth: want.gridWidth,
      gridHeight: want.gridHeight,
    });
    expect(await getImage(handle.db, ownerId, legacy.id)).toMatchObject({
      gridWidth: want.gridWidth,
      gridHeight: want.gridHeight,
    });
  });
});
