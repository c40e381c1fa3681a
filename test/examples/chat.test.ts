import assert from "node:assert/strict";
import { skipWithout } from "../helpers/binaries.js";
import { test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { startChatServer } from "../../examples/chat/server.js";
import { postToRoom } from "../../examples/chat/post.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = skipWithout(CHROMIUM, "chromium", "the browser chat test needs it");

async function joinRoom(browser: Browser, url: string, nick: string, room: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.fill("#nick", nick);
  await page.fill("#room", room);
  await page.click("#join");
  // The page marks itself joined once the broker has acknowledged the subscription (a RECEIPT).
  await page.waitForSelector(`#status[data-room="${room}"]`);
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#message", text);
  await page.click("#send");
}

/** Waits until the page shows at least `count` messages. */
const showing = (page: Page, count: number): Promise<void> =>
  page
    .locator("#messages li")
    .nth(count - 1)
    .waitFor();

const lines = (page: Page): Promise<string[]> => page.locator("#messages li").allTextContents();

test(
  "examples/chat in headless Chromium: a room's pages see each other and AMQP posts, other rooms do not",
  { skip },
  async () => {
    const chat = await startChatServer({ port: 0, webStompPort: 0, amqpPort: 0 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const alice = await joinRoom(browser, chat.url, "alice", "blue");
      const bob = await joinRoom(browser, chat.url, "bob", "blue");
      const carol = await joinRoom(browser, chat.url, "carol", "red");

      await say(alice, "hi bob");
      await say(bob, "hi alice");
      await postToRoom(chat.broker.urls.amqp as string, "blue", "amqp-bot", "posted over AMQP");
      // Carol's room gets its own message, so her page has provably received everything sent before it.
      await say(carol, "anyone in red?");

      const expected = ["alicehi bob", "bobhi alice", "amqp-botposted over AMQP"];
      for (const page of [alice, bob]) {
        await showing(page, expected.length);
        assert.deepEqual(await lines(page), expected);
      }
      await showing(carol, 1);
      await postToRoom(chat.broker.urls.amqp as string, "red", "amqp-bot", "red sync");
      // Posted after blue's messages were all routed (both blue pages show them): had any reached carol, they would come before this one.
      await showing(carol, 2);
      assert.deepEqual(await lines(carol), ["carolanyone in red?", "amqp-botred sync"]);
    } finally {
      await browser.close();
      await chat.stop();
    }
  },
);

test("examples/chat post.ts refuses room ids that would change the routing key", async () => {
  await assert.rejects(postToRoom("amqp://127.0.0.1:1", "a.#", "x", "y"), /room ids are letters, digits, - and _/);
});
