/**
 * What the playground's browser tests share: Debian's Chromium through playwright-core, the
 * built page, sign-in, upload, waiting for an answer, the API's view of a message, and an
 * axe-core scan. The page is always the built dist/ the gateway serves at "/".
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
export const root = new URL("../../../../", import.meta.url).pathname;
export const shapesImages = `${root}tests/fixtures/padt-tiny-shapes.images/`;
export const shapesBundle = `${root}models/padt-tiny-shapes`;
/** Screenshots land here (gitignored), for people to look at after a run. */
export const artifacts = `${root}test-artifacts/playground/`;
const playgroundDir = new URL("../../", import.meta.url).pathname;

export async function ensureBuilt(): Promise<void> {
  if (existsSync(`${playgroundDir}dist/index.html`)) return;
  const { build } = await import("vite");
  await build({ configFile: `${playgroundDir}vite.config.ts`, logLevel: "warn" });
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "padt-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A fresh page of the given size with the key entered; collects page errors. */
export async function openPlayground(
  browser: Browser,
  url: string,
  key: string,
  viewport = { width: 1280, height: 800 },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  // The key as a link would carry it: the page keeps it in localStorage and drops it from the URL.
  await page.goto(`${url}/?key=${encodeURIComponent(key)}`);
  await page.locator('[data-testid="task-select"], [role="alert"]').first().waitFor();
  const alert = page.getByRole("alert");
  if (await alert.count()) throw new Error(`the page says: ${await alert.first().textContent()}`);
  expect(page.url()).not.toContain(key);
  expect(await page.evaluate("localStorage.getItem('padt.apiKey')")).toBe(key);
  return { page, errors };
}

/** Forgets the saved key (once the page has settled, so that it cannot save it again). */
export async function clearStorage(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForLoadState("networkidle");
  await page.evaluate("localStorage.clear()");
}

/** Uploads a file and waits until the image in view is it, loaded. */
export async function upload(page: Page, path: string, width: number): Promise<void> {
  const view = page.getByTestId("image-view");
  const before = (await view.count()) ? await view.getAttribute("data-image-id") : null;
  await page.getByTestId("image-input").setInputFiles(path);
  await expect
    .poll(async () => {
      const view = page.getByTestId("image-view");
      if (!(await view.count())) return false;
      if ((await view.getAttribute("data-image-id")) === before) return false;
      return page.getByTestId("image").evaluate((el) => {
        const img = el as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth;
      });
    })
    .toBe(width);
}

/** Fills a task's input and sends with the Send button; returns the new answer's locator. */
export async function ask(
  page: Page,
  task: "rec" | "res" | "ovd" | "ric",
  value: string,
  maxNewTokens = 64,
) {
  const count = await page.getByTestId("answer").count();
  await page.getByTestId("task-select").selectOption(task);
  const field = {
    rec: "task-expression",
    res: "task-expression",
    ovd: "task-categories",
    ric: "task-prompt",
  }[task];
  await page.getByTestId(field).fill(value);
  await page.getByTestId("max-new-tokens").fill(String(maxNewTokens));
  await page.getByTestId("send").click();
  await expect.poll(() => page.getByTestId("answer").count()).toBe(count + 1);
  return page.getByTestId("answer").nth(count);
}

export async function waitStatus(
  answer: ReturnType<Page["getByTestId"]>,
  status: string,
  timeout = 60_000,
): Promise<void> {
  await expect.poll(() => answer.getAttribute("data-status"), { timeout }).toBe(status);
}

export type ApiBox = { x: number; y: number; width: number; height: number };
export type ApiRef = {
  id: string;
  index: number;
  box: ApiBox | null;
  mask: { width: number; height: number; counts: string; area: number } | null;
  image: { id: string };
};

/** The message's typed result, read from the API as any client would. */
export async function apiResult(url: string, key: string, messageId: string) {
  const ref = "id index box { x y width height } mask { width height counts area } image { id }";
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: `query($m: ID!) { message(id: $m) { result {
        ... on RecResult { ref { ${ref} } }
        ... on ResResult { ref { ${ref} } }
        ... on OvdResult { detections { label score ref { ${ref} } } }
      } } }`,
      variables: { m: messageId },
    }),
  });
  const body = (await res.json()) as {
    data: {
      message: {
        result: {
          ref?: ApiRef | null;
          detections?: { label: string; score: number; ref: ApiRef }[];
        };
      };
    };
  };
  return body.data.message.result;
}

/** The drawn box's centre line (outline stroked on the edges), in page pixels. */
export async function drawnBox(page: Page, index: number) {
  const box = page.locator(`[data-testid="ref-box"][data-index="${index}"]`).first();
  await box.waitFor();
  const img = (await page.getByTestId("image").boundingBox())!;
  const natural = await page
    .getByTestId("image")
    .evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth);
  const scale = img.width / natural;
  const drawn = (await box.boundingBox())!;
  const half = (Number(await box.getAttribute("stroke-width")) * scale) / 2;
  return {
    img,
    scale,
    x: drawn.x + half,
    y: drawn.y + half,
    width: drawn.width - 2 * half,
    height: drawn.height - 2 * half,
  };
}

/** Asserts the drawn box lies within 2 px of the API's box scaled to the displayed image. */
export async function expectBoxMatches(page: Page, ref: ApiRef): Promise<void> {
  const want = ref.box!;
  const d = await drawnBox(page, ref.index);
  expect(Math.abs(d.x - (d.img.x + want.x * d.scale))).toBeLessThanOrEqual(2);
  expect(Math.abs(d.y - (d.img.y + want.y * d.scale))).toBeLessThanOrEqual(2);
  expect(Math.abs(d.width - want.width * d.scale)).toBeLessThanOrEqual(2);
  expect(Math.abs(d.height - want.height * d.scale)).toBeLessThanOrEqual(2);
}

const axeSource: string = (createRequire(import.meta.url)("axe-core") as { source: string }).source;

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA rules). */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate("'axe' in window"))) await page.addScriptTag({ content: axeSource });
  // A string, so that the DOM's types stay out of the tests' compilation.
  const violations = (await page.evaluate(`axe
    .run({ runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } })
    .then((r) => r.violations)`)) as {
    id: string;
    impact: string;
    help: string;
    nodes: { target: string[] }[];
  }[];
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
}

export function screenshotPath(name: string): string {
  mkdirSync(artifacts, { recursive: true });
  return `${artifacts}${name}.png`;
}
