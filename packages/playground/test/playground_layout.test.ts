/**
 * Playground v2 in Chromium on the Shapes model (models/padt-tiny-shapes), against the real
 * gateway serving the built page, a real database and the real engine: the layout on a laptop
 * and a phone, masks, the results panel, several images in one chat, the keyboard, and axe.
 */
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
  apiResult,
  ask,
  axeViolations,
  type Browser,
  clearStorage,
  ensureBuilt,
  expectBoxMatches,
  haveChromium,
  launch,
  openPlayground,
  screenshotPath,
  shapesBundle,
  shapesImages,
  upload,
  waitStatus,
} from "./helpers/browser.js";

const REC_IMAGE = `${shapesImages}shapes_rec_3_0.png`; // 193x289
const OVD_IMAGE = `${shapesImages}shapes_ovd_6_0.png`; // 296x137

describe.runIf(haveChromium || process.env.CI)("playground v2 in Chromium (Shapes model)", () => {
  let engine: PadtEngine;
  let db: TestDatabase;
  let gateway: Gateway;
  let key: string;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBuilt();
    engine = await PadtEngine.load({ bundle: shapesBundle, threads: 1 });
    db = await createTestDatabase(availableDatabaseKinds()[0]!);
    const handle = await connect(db.kind === "postgres" ? { url: db.url } : { pglite: db.client });
    await migrate(handle);
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

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ])
    it(`fits the image and draws REC's box where the API says at ${viewport.width}x${viewport.height}`, async () => {
      const { page, errors } = await openPlayground(browser, gateway.url, key, viewport);
      expect(
        (await page.evaluate("document.documentElement.scrollWidth")) as number,
      ).toBeLessThanOrEqual(viewport.width);
      await upload(page, REC_IMAGE, 193);
      const answer = await ask(page, "rec", "the large yellow star");
      await waitStatus(answer, "COMPLETE");
      const result = await apiResult(
        gateway.url,
        key,
        (await answer.getAttribute("data-message-id"))!,
      );
      expect(result.ref?.box).toBeTruthy();
      await expectBoxMatches(page, result.ref!);

      // Fitted: the whole image is inside its pane and on screen; beside the chat when wide,
      // above it when narrow.
      const pane = (await page.locator(".image-pane").boundingBox())!;
      const scroller = (await page.getByTestId("image-pane-scroll").boundingBox())!;
      const img = (await page.getByTestId("image").boundingBox())!;
      expect(img.x).toBeGreaterThanOrEqual(scroller.x - 1);
      expect(img.y).toBeGreaterThanOrEqual(scroller.y - 1);
      expect(img.x + img.width).toBeLessThanOrEqual(scroller.x + scroller.width + 1);
      expect(img.y + img.height).toBeLessThanOrEqual(scroller.y + scroller.height + 1);
      expect(img.y + img.height).toBeLessThanOrEqual(viewport.height);
      expect(Math.abs(img.width / img.height - 193 / 289)).toBeLessThan(0.02);
      const chat = (await page.locator(".chat").boundingBox())!;
      if (viewport.width >= 1000) expect(chat.x).toBeGreaterThanOrEqual(pane.x + pane.width);
      else {
        expect(pane.width).toBeGreaterThanOrEqual(300);
        expect(chat.y).toBeGreaterThanOrEqual(pane.y + pane.height);
      }
      // Token counts and timings from the API's usage.
      expect(await answer.getByTestId("answer-usage").textContent()).toMatch(
        /\d+ prompt \+ \d+ answer tokens · prefill \d+ ms/,
      );
      // The results panel gives the API's box in image pixels.
      const row = page.getByTestId("result-row").first();
      const b = result.ref!.box!;
      expect(await row.getByTestId("result-box").textContent()).toBe(
        [b.x, b.y, b.width, b.height].map((v) => String(Math.round(v))).join(", "),
      );

      // Zoomed in, the overlay still lies on the API's box.
      await page.getByRole("button", { name: "Zoom in" }).click();
      await page.getByRole("button", { name: "Zoom in" }).click();
      await page.getByTestId("ref-chip").first().hover();
      await expectBoxMatches(page, result.ref!);
      await page.getByRole("button", { name: /^Fit/ }).click();

      await page.screenshot({
        path: screenshotPath(`rec-${viewport.width}x${viewport.height}`),
        fullPage: true,
      });
      expect(errors).toEqual([]);
      await page.close();
    });

  it("lists OVD's detections, shows RES's mask without hover, and earlier chips switch the image back", async () => {
    const { page, errors } = await openPlayground(browser, gateway.url, key);
    await upload(page, OVD_IMAGE, 296);
    const firstImage = await page.getByTestId("image-view").getAttribute("data-image-id");
    const ovd = await ask(page, "ovd", "triangle");
    await waitStatus(ovd, "COMPLETE");
    const ovdResult = await apiResult(
      gateway.url,
      key,
      (await ovd.getAttribute("data-message-id"))!,
    );
    const detections = ovdResult.detections ?? [];
    expect(detections.length).toBeGreaterThan(0);
    const rows = ovd.getByTestId("result-row");
    await expect.poll(() => rows.count()).toBe(detections.length);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-ref-id")))).toEqual(
      detections.map((d) => d.ref.id),
    );
    for (const d of detections) {
      const row = ovd.locator(`[data-testid="result-row"][data-ref-id="${d.ref.id}"]`);
      expect(await row.textContent()).toContain(d.label);
      expect(await row.textContent()).toContain(d.score.toFixed(2));
    }
    // Asked again in the same session, it finds the same: the bundle answers one question per
    // image (capabilities.multi_turn false), so the later turn is sent alone with its image.
    const again = await ask(page, "ovd", "triangle");
    await waitStatus(again, "COMPLETE");
    const againResult = await apiResult(
      gateway.url,
      key,
      (await again.getAttribute("data-message-id"))!,
    );
    expect((againResult.detections ?? []).map((d) => [d.label, d.score])).toEqual(
      detections.map((d) => [d.label, d.score]),
    );

    await upload(page, REC_IMAGE, 193);
    const res = await ask(page, "res", "the large yellow star");
    await waitStatus(res, "COMPLETE");
    const resResult = await apiResult(
      gateway.url,
      key,
      (await res.getAttribute("data-message-id"))!,
    );
    const mask = resResult.ref?.mask;
    expect(mask).toBeTruthy();
    // Nothing hovered or focused: the mask is painted all the same, pixel for pixel.
    await page.mouse.move(0, 0);
    await page.locator("body").focus();
    const canvas = page.getByTestId("ref-mask");
    await expect.poll(() => canvas.count()).toBe(1);
    const painted = await canvas.evaluate((el) => {
      const c = el as unknown as {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
      };
      const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
      return Array.from({ length: data.length / 4 }, (_, p) => (data[p * 4 + 3]! > 0 ? 1 : 0));
    });
    expect(painted).toEqual(Array.from(rleDecodeRowMajor(rleFromMask(mask!))));
    expect(await canvas.getAttribute("style")).toMatch(/opacity: 0\.[1-9]/);
    // Each grid cell once, even where the answer repeats a patch.
    await page.getByTestId("layer-patches").check(); // the overlay menu is open on a laptop
    const cells = await page
      .getByTestId("ref-patch")
      .evaluateAll((els) => els.map((e) => `${e.getAttribute("x")},${e.getAttribute("y")}`));
    expect(cells.length).toBeGreaterThan(0);
    expect(new Set(cells).size).toBe(cells.length);

    // The first answer's chip brings its image and box back.
    const chip = ovd.getByTestId("ref-chip").first();
    await chip.hover();
    await expect
      .poll(() => page.getByTestId("image-view").getAttribute("data-image-id"))
      .toBe(firstImage);
    await expectBoxMatches(page, detections[0]!.ref);
    expect(await page.getByTestId("turn-header").first().textContent()).toContain("triangle");
    await page.screenshot({ path: screenshotPath("res-ovd-two-images"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("works from the keyboard: Enter sends, Shift+Enter is a newline, a focused chip highlights its box", async () => {
    const { page, errors } = await openPlayground(browser, gateway.url, key);
    await upload(page, REC_IMAGE, 193);
    await page.getByTestId("task-select").focus();
    await page.keyboard.press("ArrowDown"); // the first task after "Free chat"
    await page.getByTestId("task-select").selectOption("rec");
    await page.getByTestId("task-expression").focus();
    await page.keyboard.type("the large yellow star");
    await page.getByTestId("message-text").focus();
    await page.keyboard.type("first");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("second");
    expect(await page.getByTestId("message-text").inputValue()).toBe("first\nsecond");
    expect(await page.getByTestId("answer").count()).toBe(0);
    await page.keyboard.press("Enter");
    const answer = page.getByTestId("answer").first();
    await answer.waitFor();
    expect(await page.getByTestId("message-text").inputValue()).toBe("");
    await waitStatus(answer, "COMPLETE");
    // Tab order reaches the chip; focusing it is the same highlight as hovering.
    const chip = answer.locator('[data-testid="ref-chip"][data-decoded="true"]').first();
    await page.mouse.move(0, 0);
    await chip.focus();
    expect(await chip.evaluate((el) => el.classList.contains("focus"))).toBe(true);
    await page.locator(".ref.focus").waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("starts new users from a sample with its task and prompt, and says what the model can do", async () => {
    const { page, errors } = await openPlayground(browser, gateway.url, key);
    // From the bundle's capabilities (model.freeChat, model.multiTurn, TaskInfo.supported).
    expect(await page.getByTestId("supported-tasks").textContent()).toBe(
      "Tasks: REC, RES, OVD, RIC; no free chat; one question per image",
    );
    expect(await page.getByTestId("free-chat-note").textContent()).toContain("REC, RES, OVD, RIC");
    await page.getByTestId("sample").first().click();
    await expect
      .poll(() =>
        page
          .getByTestId("image")
          .evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)
          .catch(() => 0),
      )
      .toBe(193);
    expect(await page.getByTestId("task-select").inputValue()).toBe("rec");
    expect(await page.getByTestId("task-expression").inputValue()).toBe("the large yellow star");
    expect(await page.getByTestId("free-chat-note").count()).toBe(0);
    await page.getByTestId("send").click();
    const answer = page.getByTestId("answer").first();
    await waitStatus(answer, "COMPLETE");
    // "Copy curl" gives the exact operation and variables that were sent.
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: gateway.url,
    });
    await answer.getByTestId("copy-curl").click();
    const curl = (await page.evaluate("navigator.clipboard.readText()")) as string;
    const body = JSON.parse(/-d '(.*)'$/s.exec(curl)![1]!) as {
      query: string;
      variables: { input: { task: unknown } };
    };
    expect(body.query).toContain("sendMessage(input: $input)");
    expect(body.variables.input.task).toEqual({ rec: { expression: "the large yellow star" } });
    await answer.getByTestId("copy-json").click();
    const json = JSON.parse((await page.evaluate("navigator.clipboard.readText()")) as string);
    expect(json.messageId).toBe(await answer.getAttribute("data-message-id"));
    // The chat is titled from its first request.
    await expect
      .poll(() => page.locator(".sessions li > button.current").textContent())
      .toContain("REC: “the large yellow star”");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("has no serious or critical axe-core violation on the main screens", async () => {
    const found: Record<string, string[]> = {};
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const page = await browser.context.newPage();
      await page.setViewportSize(viewport);
      await clearStorage(page, gateway.url);
      await page.goto(`${gateway.url}/`);
      await page.getByTestId("api-key").waitFor();
      found[`key form ${viewport.width}`] = await axeViolations(page);
      await page.close();
      const { page: main } = await openPlayground(browser, gateway.url, key, viewport);
      found[`empty chat ${viewport.width}`] = await axeViolations(main);
      await upload(main, OVD_IMAGE, 296);
      const answer = await ask(main, "ovd", "triangle");
      await waitStatus(answer, "COMPLETE");
      await main.getByTestId("result-row").first().waitFor();
      found[`answer ${viewport.width}`] = await axeViolations(main);
      await main.emulateMedia({ colorScheme: "dark" });
      found[`answer dark ${viewport.width}`] = await axeViolations(main);
      await main.close();
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
  });
});
