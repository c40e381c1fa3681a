import assert from "node:assert/strict";
import { after, before } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { skipWithout } from "../../helpers/binaries.js";
import { TestBroker } from "../../helpers/broker.js";
import type { BrokerOptions } from "../../../src/index.js";
import { Api } from "./api-client.js";

const CHROMIUM = "/usr/bin/chromium";

/**
 * One broker and one logged-in Chromium page for a UI test file. Every
 * confirmation dialog is answered by `answerDialogs` (accept by default) and
 * recorded; what the page's Content-Security-Policy blocked and every script
 * error are collected so that `assertClean` fails the test on them.
 */
export class UiSession {
  broker!: TestBroker;
  api!: Api;
  page!: Page;
  browser: Browser | null = null;
  readonly dialogs: string[] = [];
  readonly problems: string[] = [];
  acceptDialogs = true;
  readonly skip = skipWithout(CHROMIUM, "chromium", "the UI tests need it");

  /** Registers before/after hooks for the file; `width` is the viewport's width in CSS pixels. */
  static use(width = 1280, options: BrokerOptions = {}): UiSession {
    const session = new UiSession();
    before(async () => {
      session.broker = await TestBroker.start(options);
      session.api = Api.of(session.broker);
      if (session.skip) return;
      session.browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      session.page = await session.browser.newPage({ viewport: { width, height: 900 } });
      session.page.on("console", (message) => {
        // An API refusal is logged by Chromium as a failed resource; the tests check the UI shows it, so it is not a problem here.
        if (/^Failed to load resource: the server responded with a status of 4/.test(message.text())) return;
        if (message.type() === "error" || /Content Security Policy/i.test(message.text()))
          session.problems.push(message.text());
      });
      session.page.on("pageerror", (error) => session.problems.push(String(error)));
      session.page.on("dialog", (dialog) => {
        session.dialogs.push(dialog.message());
        void (session.acceptDialogs ? dialog.accept() : dialog.dismiss());
      });
      await session.login();
    });
    after(async () => {
      await session.browser?.close();
      await session.broker.stop();
    });
    return session;
  }

  async login(): Promise<void> {
    await this.page.goto(String(this.broker.broker.urls.http));
    await this.page.fill("input[name=user]", "guest");
    await this.page.fill("input[name=password]", "guest");
    await this.page.click("#login button[type=submit]");
    await this.page.waitForSelector("#whoami:has-text('guest (administrator)')");
  }

  /** Goes to a page by its nav entry and waits for its heading. */
  async open(hash: string, heading: string): Promise<void> {
    await this.page.click(`nav a[href='#${hash}']`);
    await this.page.waitForSelector(`main h2:has-text('${heading}')`);
    assert.equal(await this.page.getAttribute(`nav a[href='#${hash}']`, "aria-current"), "page");
  }

  /** Goes straight to a page by its address (a detail page has no nav entry) and waits for its heading. */
  async goto(hash: string, heading: string): Promise<void> {
    await this.page.goto(`${this.broker.broker.urls.http}#${hash}`);
    await this.page.waitForSelector(`main h2:has-text('${heading}')`);
  }

  /** The page is no wider than its viewport (nothing scrolls sideways but tables inside their own box). */
  async assertFitsViewport(): Promise<void> {
    const [scrollWidth, innerWidth] = await this.page.evaluate<[number, number]>(
      "[document.documentElement.scrollWidth, window.innerWidth]",
    );
    assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth} px wide in a ${innerWidth} px viewport`);
  }

  assertClean(): void {
    assert.deepEqual(this.problems, [], "the page logged errors or CSP violations");
  }

  /** Saves a screenshot when WARREN_UI_SCREENSHOTS names a directory (for looking at the pages, not for pass/fail). */
  async screenshot(name: string): Promise<void> {
    const dir = process.env.WARREN_UI_SCREENSHOTS;
    if (dir) await this.page.screenshot({ path: `${dir}/${name}.png`, fullPage: false });
  }
}

/** Calls `send` every 10 ms until stopped (at most 30 s), so that every stats sample sees a rate above zero. */
export function steadily(send: () => void): () => void {
  const timer = setInterval(send, 10);
  const limit = setTimeout(() => clearInterval(timer), 30_000);
  return () => {
    clearInterval(timer);
    clearTimeout(limit);
  };
}
