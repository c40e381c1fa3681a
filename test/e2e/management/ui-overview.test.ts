import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

test(
  "overview: charts of queued messages and rates follow the traffic; the window selector is kept",
  { skip },
  async () => {
    const { page, api } = ui;
    const connection = await amqplib.connect(ui.broker.url);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue("ui-overview", { durable: false });
      for (let i = 0; i < 50; i++) channel.sendToQueue("ui-overview", Buffer.from(`m${i}`));
      await channel.waitForConfirms();
      await waitFor(async () => ((await api.json<Item>("/api/overview"))["queue_totals"] as Item)["messages"] === 50);
      await page.goto(`${ui.broker.broker.urls.http}#overview`);
      await page.waitForSelector("#total-messages:text-is('50')");
      await page.waitForSelector("#chart-queued .legend:has-text('Ready 50')");
      assert.equal(await page.locator("#chart-queued polyline").count(), 3);
      assert.equal(await page.locator("#chart-rates polyline").count(), 9);
      assert.match(
        (await page.locator("#chart-rates .legend").textContent()) ?? "",
        /Publish.*Confirm.*Deliver.*Consumer ack.*Redelivered.*Get.*Unroutable/,
      );

      await page.selectOption("#chart-window", "3600000");
      await page.waitForSelector("#chart-window option[value='3600000']:checked", { state: "attached" });
      assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('warren-window')"), "3600000");
      await page.click("nav a[href='#queues']");
      await page.click("nav a[href='#overview']");
      await page.waitForSelector("#chart-window option[value='3600000']:checked", { state: "attached" });
      // each visit adds a sample: the chart's lines have as many points
      const points = await page.getAttribute("#chart-queued polyline", "points");
      assert.ok((points ?? "").trim().split(" ").length >= 2);
    } finally {
      await connection.close();
    }
    // churn as RabbitMQ's overview shows it, from /api/overview's churn_rates
    assert.deepEqual(
      (await page.locator("#churn > div").allTextContents()).map((t) => t.replace(/ [\d.]+\/s$/, "")),
      [
        "Connections opened",
        "Connections closed",
        "Channels opened",
        "Channels closed",
        "Queues declared",
        "Queues created",
        "Queues deleted",
      ],
    );
    await page.waitForSelector("main h3:has-text('Ports and contexts')");
    const amqpPort = String(ui.broker.port);
    await page.waitForSelector(`main td:text-is('${amqpPort}')`);
    await ui.screenshot("overview");
    ui.assertClean();
  },
);

test("overview: the node panel shows memory and uptime, and a raised memory alarm in red", { skip }, async () => {
  const { page, api } = ui;
  await page.goto(`${ui.broker.broker.urls.http}#overview`);
  await page.waitForSelector(".node #alarms.ok:text-is('none')");
  assert.match((await page.locator(".node").textContent()) ?? "", /Memory .*B.*Uptime/s);
  ui.broker.broker.alarms.setMemoryHighWatermark(1_000_000);
  try {
    await waitFor(async () => (await api.json<Item[]>("/api/nodes"))[0]?.["mem_alarm"] === true);
    await page.reload();
    await page.waitForSelector(".node #alarms.alarm:text-is('memory')");
    await ui.screenshot("overview-alarm");
  } finally {
    ui.broker.broker.alarms.setMemoryHighWatermark(0.99);
  }
  await waitFor(async () => (await api.json<Item[]>("/api/nodes"))[0]?.["mem_alarm"] === false);
  ui.assertClean();
});
