import assert from "node:assert/strict";
import { test } from "node:test";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

const openExchange = (name: string): Promise<void> => ui.goto(`exchange/%2F/${name}`, `Exchange ${name}`);

test(
  "exchanges page: add an exchange with type, flags, arguments and an alternate exchange; its features show",
  { skip },
  async () => {
    const { page, api } = ui;
    await ui.open("exchanges", "Exchanges");
    // the types offered are /api/overview's, plugin types included
    const types = await page.locator("#add-exchange select[name=type] option").allTextContents();
    assert.deepEqual(
      types,
      ((await api.json<Item>("/api/overview"))["exchange_types"] as Item[]).map((t) => t["name"]),
    );
    await page.fill("#add-exchange input[name=name]", "ui-orders");
    await page.selectOption("#add-exchange select[name=type]", "topic");
    await page.selectOption("#add-exchange select[name=durable]", "false");
    await page.selectOption("#add-exchange select[name=internal]", "true");
    await page.fill("#add-exchange input[name=alternate]", "ui-unrouted");
    await page.fill("#add-exchange textarea[name=arguments]", "x-note = from the browser\nx-level = 3");
    await page.click("#add-exchange button[type=submit]");
    await page.waitForSelector("a[href='#exchange/%2F/ui-orders']");
    const exchange = await api.json<Item>("/api/exchanges/%2F/ui-orders");
    assert.deepEqual(
      [exchange["type"], exchange["durable"], exchange["auto_delete"], exchange["internal"]],
      ["topic", false, false, true],
    );
    assert.deepEqual(exchange["arguments"], {
      "x-note": "from the browser",
      "x-level": 3,
      "alternate-exchange": "ui-unrouted",
    });
    const row = page.locator("tr", { has: page.locator("a[href='#exchange/%2F/ui-orders']") });
    assert.deepEqual(await row.locator(".badge").allTextContents(), ["I", "AE"]);
    assert.equal(
      await row.locator(".badge", { hasText: "AE" }).getAttribute("title"),
      "Alternate exchange: ui-unrouted",
    );
    await ui.screenshot("exchanges");
    ui.assertClean();
  },
);

test(
  "exchanges page: redeclaring an exchange with another type shows RabbitMQ's refusal in the live region and changes nothing",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    assert.equal((await api.put("/api/exchanges/%2F/ui-fixed", { type: "direct", durable: true })).status, 201);
    // RabbitMQ 3.10 (checked on :15673) answers 400 with this reason
    const refusal = await api.put("/api/exchanges/%2F/ui-fixed", { type: "fanout", durable: true });
    assert.equal(refusal.status, 400);
    assert.equal(
      (refusal.json as { reason: string }).reason,
      "inequivalent arg 'type' for exchange 'ui-fixed' in vhost '/': received 'fanout' but current is 'direct'",
    );
    await ui.open("exchanges", "Exchanges");
    await page.fill("#add-exchange input[name=name]", "ui-fixed");
    await page.selectOption("#add-exchange select[name=type]", "fanout");
    await page.click("#add-exchange button[type=submit]");
    await page.waitForSelector(`#errors[aria-live]:has-text("received 'fanout' but current is 'direct'")`);
    assert.equal((await api.json<Item>("/api/exchanges/%2F/ui-fixed"))["type"], "direct");
    await broker.assertHealthy();
    ui.assertClean();
  },
);

test(
  "exchange page: bindings out to a queue and an exchange, bindings in, unbind, publish routed and unrouted",
  { skip },
  async () => {
    const { page, api } = ui;
    assert.equal((await api.put("/api/exchanges/%2F/ui-hub", { type: "direct", durable: true })).status, 201);
    assert.equal((await api.put("/api/exchanges/%2F/ui-downstream", { type: "fanout", durable: true })).status, 201);
    assert.equal((await api.put("/api/queues/%2F/ui-hub-q", { durable: true })).status, 201);
    await openExchange("ui-hub");

    await page.fill("#bind input[name=destination]", "ui-hub-q");
    await page.fill("#bind input[name=routing_key]", "orders.eu");
    await page.fill("#bind textarea[name=arguments]", "x-region = eu");
    await page.click("#bind button[type=submit]");
    await page.waitForSelector("main a[href='#queue/%2F/ui-hub-q']");
    await page.selectOption("#bind select[name=kind]", "e");
    await page.fill("#bind input[name=destination]", "ui-downstream");
    await page.fill("#bind input[name=routing_key]", "all");
    await page.click("#bind button[type=submit]");
    await page.waitForSelector("main a[href='#exchange/%2F/ui-downstream']");
    const out = await api.json<Item[]>("/api/exchanges/%2F/ui-hub/bindings/source");
    assert.deepEqual(
      out.map((b) => [b["destination"], b["destination_type"], b["routing_key"], b["arguments"]]).sort(),
      [
        ["ui-downstream", "exchange", "all", {}],
        ["ui-hub-q", "queue", "orders.eu", { "x-region": "eu" }],
      ],
    );

    // the downstream exchange's page shows the same binding as coming in
    await page.click("main a[href='#exchange/%2F/ui-downstream']");
    await page.waitForSelector("main h2:has-text('Exchange ui-downstream')");
    await page.waitForSelector("main a[href='#exchange/%2F/ui-hub']");
    await openExchange("ui-hub");

    await page.fill("#publish input[name=routing_key]", "orders.eu");
    await page.fill("#publish textarea[name=headers]", "x-origin = exchange-page");
    await page.fill("#publish textarea[name=payload]", "routed one");
    await page.click("#publish button[type=submit]");
    await page.waitForSelector("#publish output:text-is('Message published.')");
    assert.equal((await api.json<Item>("/api/queues/%2F/ui-hub-q"))["messages"], 1);
    await page.fill("#publish input[name=routing_key]", "nowhere");
    await page.click("#publish button[type=submit]");
    await page.waitForSelector("#publish output:text-is('Message published, but not routed.')");

    // unbinding the queue leaves the exchange-to-exchange binding
    await page.click("tr:has(a[href='#queue/%2F/ui-hub-q']) button[data-action=unbind]");
    await page.waitForSelector("main a[href='#queue/%2F/ui-hub-q']", { state: "detached" });
    assert.deepEqual(
      (await api.json<Item[]>("/api/exchanges/%2F/ui-hub/bindings/source")).map((b) => b["destination"]),
      ["ui-downstream"],
    );
    await ui.screenshot("exchange-detail");
    ui.assertClean();
  },
);

test(
  "exchange page: delete asks for confirmation; declining keeps it; built-in amq.* exchanges offer no delete",
  { skip },
  async () => {
    const { page, api } = ui;
    assert.equal((await api.put("/api/exchanges/%2F/ui-doomed", { type: "fanout" })).status, 201);
    await openExchange("ui-doomed");
    ui.acceptDialogs = false;
    await page.click("button[data-action=delete]");
    await page.waitForSelector("main h2:has-text('Exchange ui-doomed')");
    assert.equal((await api.get("/api/exchanges/%2F/ui-doomed")).status, 200);
    ui.acceptDialogs = true;
    await page.click("button[data-action=delete]");
    await page.waitForSelector("main h2:text-is('Exchanges')");
    assert.equal((await api.get("/api/exchanges/%2F/ui-doomed")).status, 404);
    assert.deepEqual(ui.dialogs.slice(-2), ["Delete exchange ui-doomed?", "Delete exchange ui-doomed?"]);

    await openExchange("amq.topic");
    assert.equal(await page.locator("button[data-action=delete]").count(), 0);
    ui.assertClean();
  },
);
