import assert from "node:assert/strict";
import { test } from "node:test";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

async function openQueue(name: string): Promise<void> {
  await ui.page.goto(`${ui.broker.broker.urls.http}#queue/%2F/${name}`);
  await ui.page.waitForSelector(`main h2:has-text('Queue ${name}')`);
}

test("queue page: bind and unbind, publish with delivery mode, properties and headers, get with ack mode and see them", { skip }, async () => {
  const { page, api } = ui;
  assert.equal((await api.put("/api/queues/%2F/ui-detail", { durable: true, arguments: { "x-message-ttl": 60000 } })).status, 201);
  await openQueue("ui-detail");
  await page.waitForSelector("main dd:has-text('x-message-ttl: 60000')");

  await page.fill("#bind input[name=source]", "amq.direct");
  await page.fill("#bind input[name=routing_key]", "rk-ui");
  await page.click("#bind button[type=submit]");
  await page.waitForSelector("main a[href='#exchange/%2F/amq.direct']");
  const bindings = await api.json<Item[]>("/api/bindings/%2F/e/amq.direct/q/ui-detail");
  assert.deepEqual(bindings.map((b) => b["routing_key"]), ["rk-ui"]);

  await page.selectOption("#publish select[name=delivery_mode]", "2");
  await page.fill("#publish textarea[name=headers]", "x-origin = browser\nx-count = 3");
  await page.fill("#publish textarea[name=props]", "content_type = text/plain\ncorrelation_id = c-1");
  const long = "long-".repeat(400);
  await page.fill("#publish textarea[name=payload]", long);
  await page.click("#publish button[type=submit]");
  await page.waitForSelector("#publish output:has-text('Message published.')");
  assert.equal((await api.json<Item>("/api/queues/%2F/ui-detail"))["messages"], 1);
  await page.reload();
  await page.waitForSelector("#queue-messages:text-is('1')");

  await page.selectOption("#get select[name=ackmode]", "ack_requeue_true");
  await page.click("#get button[type=submit]");
  await page.waitForSelector("pre.message");
  const shown = await page.locator(".got-message").textContent();
  assert.match(shown ?? "", /delivery_mode: 2/);
  assert.match(shown ?? "", /correlation_id: c-1/);
  assert.match(shown ?? "", /x-origin/);
  // a long payload wraps inside the page instead of widening it
  await ui.assertFitsViewport();
  const [message] = (await api.post("/api/queues/%2F/ui-detail/get", { count: 1, ackmode: "ack_requeue_true", encoding: "auto" })).json as Item[];
  assert.deepEqual((message?.["properties"] as Item)["headers"], { "x-origin": "browser", "x-count": 3 });
  assert.equal((message?.["properties"] as Item)["delivery_mode"], 2);
  assert.equal(message?.["payload"], long);

  await page.click("button[data-action=unbind]:not([data-path$='/'])");
  await page.waitForSelector("main a[href='#exchange/%2F/amq.direct']", { state: "detached" });
  assert.deepEqual(await api.json<Item[]>("/api/bindings/%2F/e/amq.direct/q/ui-detail"), []);
  await ui.screenshot("queue-detail");
  ui.assertClean();
});

test("queue page: purge and delete ask for confirmation; declining changes nothing", { skip }, async () => {
  const { page, api } = ui;
  await api.put("/api/queues/%2F/ui-confirm", { durable: true });
  await api.post("/api/exchanges/%2F/amq.default/publish", { properties: {}, routing_key: "ui-confirm", payload: "x", payload_encoding: "string" });
  await openQueue("ui-confirm");
  await page.waitForSelector("#move-note:has-text('no shovel')");

  ui.acceptDialogs = false;
  await page.click("button[data-action=purge]");
  await page.click("button[data-action=delete]");
  await page.waitForSelector("main h2:has-text('Queue ui-confirm')");
  assert.equal((await api.json<Item>("/api/queues/%2F/ui-confirm"))["messages"], 1);

  ui.acceptDialogs = true;
  await page.click("button[data-action=purge]");
  await page.waitForSelector("#queue-messages:text-is('0')");
  assert.equal((await api.json<Item>("/api/queues/%2F/ui-confirm"))["messages"], 0);
  await page.click("button[data-action=delete]");
  await page.waitForSelector("main h2:has-text('Queues')");
  assert.equal((await api.get("/api/queues/%2F/ui-confirm")).status, 404);
  assert.deepEqual(ui.dialogs, ["Purge all messages of queue ui-confirm?", "Delete queue ui-confirm?", "Purge all messages of queue ui-confirm?", "Delete queue ui-confirm?"]);
  ui.assertClean();
});
