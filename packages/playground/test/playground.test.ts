/**
 * The playground in a real browser: Debian's Chromium driven by playwright-core, against the
 * real gateway (serving the built page at "/"), a real database and the real engine on the
 * tiny bundle, whose REC answer for this image and expression points at one object.
 */
import { mkdirSync } from "node:fs";
import { PadtEngine } from "@padt/engine";
import {
  connect,
  createApiKey,
  createOwner,
  type Gateway,
  migrate,
  startGateway,
} from "@padt/gateway";
import { rleDecodeRowMajor, rleFromMask } from "@padt/mask";
import { availableDatabaseKinds, createTestDatabase, type TestDatabase } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  CHROMIUM,
  ensureBuilt,
  haveChromium,
  launch,
  root,
} from "./helpers/browser.js";

const fixtures = `${root}tests/fixtures/`;
const imagePath = `${fixtures}padt-tiny-random.images/rec_200x150_0.png`;
const screenshot = `${root}test-artifacts/playground-rec.png`;

if (!haveChromium && !process.env.CI)
  console.warn(
    `playground browser test skipped: ${CHROMIUM} not found (apt-get install chromium); CI always runs it`,
  );

describe.runIf(haveChromium || process.env.CI)("playground in Chromium", () => {
  let engine: PadtEngine;
  let db: TestDatabase;
  let gateway: Gateway;
  let key: string;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBuilt();
    engine = await PadtEngine.load({ bundle: `${fixtures}padt-tiny-random`, threads: 1 });
    db = await createTestDatabase(availableDatabaseKinds()[0]!);
    const handle = await connect(db.kind === "postgres" ? { url: db.url } : { pglite: db.client });
    await migrate(handle);
    // No routes given: the gateway serves the built playground at "/" by default.
    gateway = await startGateway({
      engine,
      database: handle,
      localKey: false,
      port: 0,
      host: "127.0.0.1",
    });
    key = (await createApiKey(handle.db, (await createOwner(handle.db, "browser")).id)).key;
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await db?.drop();
    await engine?.close();
  });

  it("runs REC on an uploaded image and draws the box where the API says", async () => {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    await page.goto(`${gateway.url}/`);
    await page.getByTestId("api-key").fill(key);
    await page.getByTestId("api-key-submit").click();
    await page.locator('[data-testid="task-select"], [role="alert"]').first().waitFor();
    const alert = page.getByRole("alert");
    if (await alert.count()) throw new Error(`the page says: ${await alert.first().textContent()}`);
    await page.getByTestId("task-select").selectOption("rec");
    await page.getByTestId("image-input").setInputFiles(imagePath);
    const img = page.getByTestId("image");
    await expect
      .poll(() =>
        img.evaluate((el) => {
          const loaded = el as unknown as { complete: boolean; naturalWidth: number };
          return loaded.complete && loaded.naturalWidth;
        }),
      )
      .toBe(200);
    await page.getByTestId("task-expression").fill("red circle");
    await page.getByTestId("max-new-tokens").fill("16");
    await page.getByTestId("send").click();

    const answer = page.getByTestId("answer").last();
    await expect
      .poll(() => answer.getAttribute("data-status"), { timeout: 45_000 })
      .toBe("COMPLETE");
    const box = page.getByTestId("ref-box").first();
    await box.waitFor();
    await expect(
      page.locator('[data-testid="ref-chip"][data-decoded="true"]').count(),
    ).resolves.toBe(1);

    const messageId = await answer.getAttribute("data-message-id");
    const res = await fetch(`${gateway.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `query($m: ID!) { message(id: $m) { result { ... on RecResult { ref { box { x y width height } mask { width height counts area } } } } } }`,
        variables: { m: messageId },
      }),
    });
    type Box = { x: number; y: number; width: number; height: number };
    type Mask = { width: number; height: number; counts: string; area: number };
    type Ref = { box: Box; mask: Mask };
    const body = (await res.json()) as { data: { message: { result: { ref: Ref } } } };
    const want = body.data.message.result.ref.box;
    const wantMask = body.data.message.result.ref.mask;
    const shown = (await img.boundingBox())!;
    const drawn = (await box.boundingBox())!;
    const scale = shown.width / 200;
    expect(Math.abs(shown.height / 150 - scale)).toBeLessThan(0.01);
    // The outline is stroked centred on the box's edges: compare its centre line.
    const half = (Number(await box.getAttribute("stroke-width")) * scale) / 2;
    expect(Math.abs(drawn.x + half - (shown.x + want.x * scale))).toBeLessThanOrEqual(2);
    expect(Math.abs(drawn.y + half - (shown.y + want.y * scale))).toBeLessThanOrEqual(2);
    expect(Math.abs(drawn.width - 2 * half - want.width * scale)).toBeLessThanOrEqual(2);
    expect(Math.abs(drawn.height - 2 * half - want.height * scale)).toBeLessThanOrEqual(2);

    // Hovering the chip highlights the ref's patches and its decoded mask.
    await page.getByTestId("ref-chip").first().hover();
    await page.getByTestId("ref-mask").waitFor();
    expect(await page.getByTestId("ref-patch").count()).toBeGreaterThan(0);
    // The page paints the mask @padt/mask decodes from the API's RLE, pixel for pixel.
    const painted = await page.getByTestId("ref-mask").evaluate((el) => {
      const canvas = el as unknown as {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
      };
      const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      const bits = Array.from({ length: data.length / 4 }, (_, p) =>
        data[p * 4 + 3]! > 0 ? 1 : 0,
      );
      return { width: canvas.width, height: canvas.height, bits };
    });
    const bits = Array.from(rleDecodeRowMajor(rleFromMask(wantMask)));
    expect(bits.reduce((a, b) => a + b, 0)).toBe(wantMask.area);
    expect(painted).toEqual({ width: wantMask.width, height: wantMask.height, bits });

    mkdirSync(`${root}test-artifacts`, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
