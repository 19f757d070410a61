/**
 * Issue 14.3: a photo-sized image must not take the server down. `padt serve` runs as a child
 * process on the shipped Shapes bundle, whose manifest caps the vision tower's input at a
 * 448 px long side; a 3000x2000 and an 8000x6000 PNG each get a complete REC answer, the grid
 * that uploadImage reports is the capped one the model uses, and the server's peak resident
 * memory (VmHWM, read from /proc) stays under 1 GB. Before the cap, the 3000x2000 image grew
 * the process past 20 GB.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphqlOver, subscriptionOver } from "./helpers/e2e-gateway.js";
import { type ServerProcess, startServerProcess } from "./helpers/server-process.js";
import { shapesPng } from "./helpers/shapes-png.js";

const SHAPES = new URL("../models/padt-tiny-shapes", import.meta.url).pathname;
const GB = 1_000_000_000;

describe.each(availableDatabaseKinds())("photo-sized images on %s", (kind) => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess(kind, {
      model: SHAPES,
      // The 8000x6000 image is above the default 16 MP upload limit: raise it for this test.
      env: { PADT_MAX_IMAGE_PIXELS: "50000000" },
      killAboveRssBytes: 3 * GB,
    });
  });
  afterAll(() => server?.stop());

  // [width, height, grid columns, grid rows]: the long side capped to 448 px (16 cells of
  // 28 px), the short side floor(side * 448 / long side), then smart_resize's rounding.
  it.each([
    [3000, 2000, 16, 11],
    [8000, 6000, 16, 12],
  ])("%i x %i: a REC answer completes in under 1 GB", async (width, height, gridW, gridH) => {
    const gql = graphqlOver(server.url, server.key);
    const upload = await gql(
      `mutation($b: String!) { uploadImage(input: {base64: $b}) { id width height gridWidth gridHeight } }`,
      { b: Buffer.from(shapesPng(width, height)).toString("base64") },
    );
    expect(upload.errors, server.output()).toBeUndefined();
    expect(upload.data?.uploadImage).toMatchObject({
      width,
      height,
      gridWidth: gridW,
      gridHeight: gridH,
    });
    const session = await gql(`mutation { createSession(input: {}) { id } }`);
    const sent = await gql(
      `mutation($s: ID!, $i: ID!) { sendMessage(input: { sessionId: $s, parts: [{ imageId: $i }],
        task: { rec: { expression: "the red circle" } }, options: { maxNewTokens: 24 } }) {
        assistantMessage { id } } }`,
      { s: session.data?.createSession.id, i: upload.data?.uploadImage.id },
    );
    expect(sent.errors).toBeUndefined();
    const events = await subscriptionOver(server.url, server.key)(
      `subscription($m: ID!) { messageEvents(messageId: $m, afterSeq: 0) {
        __typename ... on MessageFailed { error { code message } } } }`,
      { m: sent.data?.sendMessage.assistantMessage.id },
    );
    expect(events.at(-1)?.data?.messageEvents, server.output()).toEqual({
      __typename: "MessageCompleted",
    });
    const peak = server.peakRssBytes();
    expect(peak, `peak RSS ${(peak / 1e6).toFixed(0)} MB`).toBeLessThan(GB);
  });
});
