import assert from "node:assert/strict";
import { test } from "node:test";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

test(
  "queues page: add a queue with a type and arguments; its features show as RabbitMQ's badges",
  { skip },
  async () => {
    const { page, api } = ui;
    await ui.open("queues", "Queues");
    await page.fill("#add-queue input[name=name]", "ui-featured");
    await page.fill(
      "#add-queue textarea[name=arguments]",
      "x-message-ttl = 60000\nx-max-length = 10\nx-dead-letter-exchange = amq.fanout\nx-max-priority = 5",
    );
    await page.click("#add-queue button[type=submit]");
    await page.waitForSelector("a[href='#queue/%2F/ui-featured']");
    const queue = await api.json<Item>("/api/queues/%2F/ui-featured");
    assert.deepEqual(queue["arguments"], {
      "x-message-ttl": 60000,
      "x-max-length": 10,
      "x-dead-letter-exchange": "amq.fanout",
      "x-max-priority": 5,
    });
    const row = page.locator("tr", { has: page.locator("a[href='#queue/%2F/ui-featured']") });
    assert.deepEqual(await row.locator(".badge").allTextContents(), ["D", "TTL", "Lim", "DLX", "Pri"]);

    await page.fill("#add-queue input[name=name]", "ui-quorum");
    await page.selectOption("#add-queue select[name=type]", "quorum");
    await page.click("#add-queue button[type=submit]");
    await page.waitForSelector("a[href='#queue/%2F/ui-quorum']");
    assert.equal((await api.json<Item>("/api/queues/%2F/ui-quorum"))["type"], "quorum");

    // A stream, as RabbitMQ 3.10's form offers it: listed with type stream.
    await page.fill("#add-queue input[name=name]", "ui-stream");
    await page.selectOption("#add-queue select[name=type]", "stream");
    await page.click("#add-queue button[type=submit]");
    await page.waitForSelector("a[href='#queue/%2F/ui-stream']");
    const stream = await api.json<Item>("/api/queues/%2F/ui-stream");
    assert.deepEqual([stream["type"], stream["arguments"]], ["stream", { "x-queue-type": "stream" }]);
    const streamRow = page.locator("tr", { has: page.locator("a[href='#queue/%2F/ui-stream']") });
    assert.ok((await streamRow.locator("td").allTextContents()).includes("stream"));
    // Each test leaves the broker as it found it.
    assert.equal((await api.delete("/api/queues/%2F/ui-stream")).status, 204);
    ui.assertClean();
  },
);

test(
  "queues page: a policy's name and its features show; a bad argument shows the API's error in the live region",
  { skip },
  async () => {
    const { page, api } = ui;
    assert.equal(
      (
        await api.put("/api/policies/%2F/ui-limit", {
          pattern: "^ui-policed$",
          definition: { "max-length-bytes": 1000, expires: 60000 },
          "apply-to": "queues",
        })
      ).status,
      201,
    );
    assert.equal((await api.put("/api/queues/%2F/ui-policed", { durable: true })).status, 201);
    await ui.open("queues", "Queues");
    const row = page.locator("tr", { has: page.locator("a[href='#queue/%2F/ui-policed']") });
    await row.waitFor();
    assert.deepEqual(await row.locator(".badge").allTextContents(), ["D", "Exp", "Lim B", "ui-limit"]);

    await page.fill("#add-queue input[name=name]", "ui-bad");
    await page.fill("#add-queue textarea[name=arguments]", "x-max-length = -1");
    await page.click("#add-queue button[type=submit]");
    const expected = (await api.put("/api/queues/%2F/ui-bad-api", { arguments: { "x-max-length": -1 } })).json as {
      reason: string;
    };
    await page.waitForSelector(`#errors[aria-live]:has-text("${expected.reason.slice(0, 30)}")`);
    assert.equal((await api.get("/api/queues/%2F/ui-bad")).status, 404);
    await ui.broker.assertHealthy();
  },
);

test("queues page: 10,000 queues are paged, filtered by regex and sorted by the server", { skip }, async () => {
  const { page, api } = ui;
  const names = Array.from({ length: 10_000 }, (_, i) => `bulk-${String(i).padStart(5, "0")}`);
  const queues = names.map((name) => ({ name, vhost: "/", durable: false, auto_delete: false, arguments: {} }));
  assert.equal((await api.post("/api/definitions", { queues })).status, 204);
  const total = (await api.json<Item[]>("/api/queues")).length;
  assert.ok(total > 10_000);
  await ui.open("queues", "Queues");
  await page.waitForSelector(`#pager:has-text('of ${total} queues match')`);
  assert.equal(await page.locator("main tbody tr").count(), 100);

  await page.fill("#queue-filter input[name=name]", "^bulk-0999[0-9]$");
  await page.check("#queue-filter input[name=use_regex]");
  await page.click("#queue-filter button[type=submit]");
  await page.waitForSelector(`#pager:has-text('10 of ${total} queues match')`);
  assert.equal(await page.locator("main tbody tr").count(), 10);
  assert.equal(await page.locator("main tbody tr a").first().textContent(), "bulk-09990");

  await page.click("button[data-sort=name]"); // the second click on the sorted column reverses it, as RabbitMQ's UI does
  await page.waitForSelector("th[aria-sort=descending]");
  assert.equal(await page.locator("main tbody tr a").first().textContent(), "bulk-09999");

  await page.fill("#queue-filter input[name=name]", "bulk");
  await page.uncheck("#queue-filter input[name=use_regex]");
  await page.selectOption("#queue-filter select[name=page_size]", "500");
  await page.click("#queue-filter button[type=submit]");
  await page.waitForSelector("#pager:has-text('Page 1 of 20')");
  await page.click("#pager button:has-text('Next')");
  await page.waitForSelector("#pager:has-text('Page 2 of 20')");
  assert.equal(await page.locator("main tbody tr a").first().textContent(), "bulk-09499");
  await ui.screenshot("queues");
  ui.assertClean();
});
