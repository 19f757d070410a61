/**
 * The playground against `padt serve` as users run it (a child process, NODE_ENV unset) on the
 * tiny random bundle, whose answers run as long as asked: Esc cancels a running answer, and
 * killing the server mid-answer shows "reconnecting" until a new server on the same port and
 * database is back, after which the page works again without a reload.
 */
import { availableDatabaseKinds } from "@padt/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliProcess,
  killLeftovers,
  RANDOM_BUNDLE,
  type ServedCli,
  serveCli,
  startCli,
} from "../../gateway/test/helpers/cli-process.js";
import {
  type Browser,
  ensureBuilt,
  haveChromium,
  launch,
  openPlayground,
  screenshotPath,
  shapesImages,
  upload,
  waitStatus,
} from "./helpers/browser.js";

const IMAGE = `${shapesImages}shapes_rec_3_0.png`;

describe.runIf(haveChromium || process.env.CI)("playground and a server that goes away", () => {
  let served: ServedCli;
  let browser: Browser;
  let restarted: CliProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    served = await serveCli(availableDatabaseKinds()[0]!, { args: ["--model", RANDOM_BUNDLE] });
    browser = await launch();
  });
  afterAll(async () => {
    killLeftovers();
    await browser?.close();
    restarted?.child.kill("SIGKILL");
    await restarted?.exited;
    await served?.cleanup();
  });

  /** Free chat about the image, sent with Enter; the random model answers until the limit. */
  async function sendLong(page: Awaited<ReturnType<typeof openPlayground>>["page"], n = 4000) {
    const count = await page.getByTestId("answer").count();
    await page.getByTestId("max-new-tokens").fill(String(n));
    await page.getByTestId("message-text").fill("What is in the image?");
    await page.getByTestId("message-text").press("Enter");
    const answer = page.getByTestId("answer").nth(count);
    await answer.waitFor();
    return answer;
  }

  it("cancels the running answer with Esc", async () => {
    const { page, errors } = await openPlayground(browser, served.url, served.key);
    await upload(page, IMAGE, 193);
    const answer = await sendLong(page);
    await waitStatus(answer, "STREAMING");
    await page.keyboard.press("Escape");
    await waitStatus(answer, "CANCELLED");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows reconnecting within 5 s of the server's death, and recovers when it returns", async () => {
    const { page } = await openPlayground(browser, served.url, served.key);
    await upload(page, IMAGE, 193);
    expect(await page.getByTestId("connection").getAttribute("data-state")).toBe("online");
    const answer = await sendLong(page);
    await waitStatus(answer, "STREAMING");
    served.proc.child.kill("SIGKILL");
    await served.proc.exited;
    // The bound: the page says so within 5 s (it keeps pinging its socket).
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor({
      timeout: 5_000,
    });
    expect(await answer.getByTestId("answer-status").textContent()).toBe("reconnecting…");
    await page.screenshot({ path: screenshotPath("reconnecting"), fullPage: true });

    // The same server again: same database, same port.
    const port = new URL(served.url).port;
    const args = served.args.map((a, i) => (served.args[i - 1] === "--port" ? port : a));
    restarted = startCli([...args, "--model", RANDOM_BUNDLE]);
    await restarted.waitFor(/gateway on (http:\/\/\S+)\/graphql/);
    await page
      .locator('[data-testid="connection"][data-state="online"]')
      .waitFor({ state: "attached", timeout: 60_000 });
    // The interrupted answer is settled by the new server, and a new question is answered.
    const next = await sendLong(page, 4);
    await waitStatus(next, "COMPLETE");
    expect(await answer.getByTestId("answer-status").textContent()).not.toBe("reconnecting…");
    await page.close();
  });
});
