import assert from "node:assert/strict";
import { skipWithout } from "../../helpers/binaries.js";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { TestBroker } from "../../helpers/broker.js";
import { Api, type Item } from "./api-client.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = skipWithout(CHROMIUM, "chromium", "the UI test needs it");
/** What the page's Content-Security-Policy blocked (the UI must need no inline script, style or eval). */
const cspViolations: string[] = [];

let broker: TestBroker;
let browser: Browser | null = null;
let page: Page;
before(async () => {
  broker = await TestBroker.start();
  if (skip) return;
  browser = await chromium.launch({
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
  page = await browser.newPage();
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
});
after(async () => {
  await browser?.close();
  await broker.stop();
});

test("log in, create a queue, publish to it, see the count, get the message back, delete it", { skip }, async () => {
  const api = Api.of(broker);
  await page.goto(String(broker.broker.urls.http));
  await page.fill("input[name=user]", "guest");
  await page.fill("input[name=password]", "wrong");
  await page.click("button[type=submit]");
  await page.waitForSelector("#login-error:has-text('Login failed')");

  await page.fill("input[name=password]", "guest");
  await page.click("button[type=submit]");
  await page.waitForSelector("#whoami:has-text('guest (administrator)')");
  await page.waitForSelector("#total-queues");

  await page.click("nav a[href='#queues']");
  await page.fill("#add-queue input[name=name]", "ui-queue");
  await page.click("#add-queue button");
  await page.waitForSelector("a[href='#queue/%2F/ui-queue']");
  assert.equal((await api.json<Item>("/api/queues/%2F/ui-queue"))["durable"], true);

  await page.click("a[href='#queue/%2F/ui-queue']");
  await page.fill("#publish [name=payload]", "hello from the browser");
  await page.click("#publish button");
  await page.waitForSelector("#queue-messages:has-text('1')");
  assert.equal((await api.json<Item>("/api/queues/%2F/ui-queue"))["messages"], 1);

  await page.selectOption("#get select[name=ackmode]", "ack_requeue_false");
  await page.click("#get button");
  await page.waitForSelector("pre.message:has-text('hello from the browser')");
  await page.waitForSelector("#queue-messages:has-text('0')");

  page.once("dialog", (dialog) => void dialog.accept()); // deleting asks for confirmation (issue 12)
  await page.click("button[data-action=delete]");
  await page.waitForSelector("h2:has-text('Queues')");
  assert.equal((await api.get("/api/queues/%2F/ui-queue")).status, 404);
});

test(
  "the UI's pages render the overview, connections, exchanges, users, vhosts and definitions",
  { skip },
  async () => {
    for (const [hash, text] of [
      ["overview", "Ports and contexts"],
      ["connections", "Connections"],
      ["exchanges", "amq.topic"],
      ["users", "Permissions"],
      ["vhosts", "Virtual hosts"],
      ["definitions", "Download definitions"],
    ] as const) {
      await page.click(`nav a[href='#${hash}']`);
      await page.waitForSelector(`main:has-text('${text}')`);
    }
  },
);

test("the UI works under its Content-Security-Policy: nothing was blocked", { skip }, async () => {
  const response = await page.goto(String(broker.broker.urls.http));
  assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
  await page.waitForSelector("#whoami:has-text('guest (administrator)')");
  assert.deepEqual(cspViolations, []);
});
