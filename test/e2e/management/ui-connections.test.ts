import assert from "node:assert/strict";
import { after, test } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { TestPki } from "../../helpers/pki.js";
import type { Item } from "./api-client.js";
import { steadily, UiSession } from "./ui-session.js";

const pki = TestPki.create();
const serverCert = pki.server();
after(() => pki.remove());
// A short sampling interval so that the rates columns move within the test.
const ui = UiSession.use(1280, {
  management: { statsIntervalMs: 200 },
  tls: { cert: serverCert.certFile, key: serverCert.keyFile, ca: pki.caFile },
});
const skip = ui.skip;

/** The row of the connections table whose name cell shows `text`. */
const row = (text: string) =>
  ui.page.locator("main tbody tr", { has: ui.page.locator(`td:first-child a:text-is('${text}')`) });

test(
  "connections page: client-provided name, user, vhost, protocol and TLS of AMQP, AMQPS and Web MQTT clients",
  { skip },
  async () => {
    const { page, broker } = ui;
    const plain = await amqplib.connect(broker.url, { clientProperties: { connection_name: "orders-service" } });
    const secure = await amqplib.connect(String(broker.broker.urls.amqps), {
      ca: [pki.ca],
      clientProperties: { connection_name: "billing-tls" },
    });
    // reconnectPeriod 0: mqtt.js would otherwise reconnect forever after the test closes it
    const web = await mqtt.connectAsync(String(broker.broker.urls.webMqtt), {
      clientId: "ui-web-mqtt",
      reconnectPeriod: 0,
    });
    try {
      await ui.open("connections", "Connections");
      await row("orders-service").waitFor();
      const cells = async (name: string): Promise<string[]> =>
        (await row(name).locator("td").allTextContents()).map((t) => t.trim());
      const [orders, billing] = [await cells("orders-service"), await cells("billing-tls")];
      assert.deepEqual(orders.slice(1, 6), ["guest", "/", "AMQP 0-9-1", "○", "running"]);
      assert.deepEqual(billing.slice(1, 6), ["guest", "/", "AMQP 0-9-1", "●", "running"]);
      // without a client-provided name the row is named as RabbitMQ names it: "peer:port -> local:port"
      const webRow = page.locator("main tbody tr", { hasText: "Web MQTT" });
      assert.match((await webRow.locator("td").nth(3).textContent()) ?? "", /^Web MQTT 3\.1\.1$/);
      // a publishing client's incoming byte rate shows once the page refreshes after a sample
      const channel = await plain.createChannel();
      const stop = steadily(() => channel.publish("amq.fanout", "", Buffer.alloc(100)));
      await page.selectOption("#refresh-select", "5000");
      await row("orders-service").locator("td:nth-child(8):not(:text-is('0 B/s'))").waitFor({ timeout: 20_000 });
      stop();
      assert.match((await row("orders-service").locator("td").nth(7).textContent()) ?? "", /^[1-9]\d* B\/s$/);
      const api = (await ui.api.json<Item[]>("/api/connections")).map((c) => [
        (c["client_properties"] as Item)["connection_name"] ?? null,
        c["protocol"],
        c["ssl"],
      ]);
      assert.deepEqual(
        api.sort(),
        [
          ["billing-tls", "AMQP 0-9-1", true],
          ["orders-service", "AMQP 0-9-1", false],
          [null, "Web MQTT 3.1.1", false],
        ].sort(),
      );
      await ui.screenshot("connections");
      ui.assertClean();
    } finally {
      await web.endAsync();
      await secure.close();
      await plain.close();
    }
  },
);

test(
  "connection page: its channels with prefetch, unacked, confirm mode; force close with a reason the client receives",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    const connection = await amqplib.connect(broker.url, { clientProperties: { connection_name: "to-be-closed" } });
    // amqplib treats 320 CONNECTION_FORCED as not fatal: it emits no "error", only "close" with the
    // error (awaiting "error" here is what made the first version of this test hang)
    const closed = new Promise<Error | undefined>((resolve) => connection.once("close", resolve));
    const consuming = await connection.createChannel();
    await consuming.prefetch(7);
    await consuming.assertQueue("ui-conn-q");
    consuming.sendToQueue("ui-conn-q", Buffer.from("a"));
    consuming.sendToQueue("ui-conn-q", Buffer.from("b"));
    await consuming.consume("ui-conn-q", () => undefined); // never acks: both stay unacked
    const confirming = await connection.createConfirmChannel();
    await waitFor(async () =>
      (await api.json<Item>("/api/queues/%2F/ui-conn-q"))["messages_unacknowledged"] === 2 ? true : null,
    );

    await ui.open("connections", "Connections");
    await row("to-be-closed").locator("a").click();
    await page.waitForSelector("main h2:has-text('Connection to-be-closed')");
    assert.equal(await page.getAttribute("nav a[href='#connections']", "aria-current"), "page");
    const channels = page.locator("main tbody tr");
    await waitFor(async () => ((await channels.count()) === 2 ? true : null));
    const text = (await channels.allTextContents()).join("\n");
    const columns = async (n: number): Promise<string[]> =>
      (await channels.nth(n).locator("td").allTextContents()).map((t) => t.trim());
    // columns: Channel, User, Virtual host, Mode, State, Prefetch, Unacked, Consumers
    assert.deepEqual((await columns(0)).slice(3, 8), ["—", "running", "7", "2", "1"], text);
    assert.deepEqual((await columns(1)).slice(3, 8), ["C", "running", "0", "0", "0"], text);
    void confirming;

    await page.fill("#close input[name=reason]", "maintenance window");
    await page.click("#close button[type=submit]");
    await page.waitForSelector("main h2:text-is('Connections')");
    const error = await closed;
    // what the client hears is RabbitMQ's: 320 CONNECTION_FORCED with the operator's reason
    assert.match(String(error?.message), /CONNECTION_FORCED - maintenance window/);
    assert.equal((error as { code?: number } | undefined)?.code, 320);
    assert.match(
      ui.dialogs.at(-1) ?? "",
      /^Force close connection to-be-closed \(127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+\)\?$/,
    );
    await waitFor(async () => ((await api.json<Item[]>("/api/connections")).length === 0 ? true : null));
    await page.waitForSelector("main td.empty");
    await broker.assertHealthy();
    ui.assertClean();
  },
);

test(
  "channels page lists every channel with its mode, prefetch and rates; the vhost selector scopes it",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    assert.equal((await api.put("/api/vhosts/ui-chan-other", {})).status, 201);
    // the creating user was already granted full permissions on the new vhost, as RabbitMQ does
    assert.equal((await api.get("/api/permissions/ui-chan-other/guest")).status, 200);
    const connection = await amqplib.connect(broker.url);
    const other = await amqplib.connect(`${broker.url}/ui-chan-other`);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.prefetch(3);
      await (await other.createChannel()).prefetch(11);
      await channel.assertQueue("ui-chan-q");
      for (let i = 0; i < 20; i++) channel.sendToQueue("ui-chan-q", Buffer.from("x"));
      await channel.waitForConfirms();

      await page.reload();
      await page.waitForSelector("#vhost-select option:text-is('ui-chan-other')", { state: "attached" });
      await ui.open("channels", "Channels");
      const rows = page.locator("main tbody tr");
      await waitFor(async () => ((await rows.count()) === 2 ? true : null));
      const confirmRow = page.locator("main tbody tr", { has: page.locator("td:nth-child(4):text-is('C')") });
      const cells = (await confirmRow.locator("td").allTextContents()).map((t) => t.trim());
      assert.deepEqual(cells.slice(1, 6), ["guest", "/", "C", "running", "3"]);
      // the publish rate shows once the page refreshes after a sample
      const stop = steadily(() => channel.sendToQueue("ui-chan-q", Buffer.from("y")));
      await page.selectOption("#refresh-select", "5000");
      await confirmRow.locator("td:nth-child(9):not(:text-is('0.0/s'))").waitFor({ timeout: 20_000 });
      stop();
      assert.match((await confirmRow.locator("td").nth(8).textContent()) ?? "", /^\d+\.\d\/s$/);
      await channel.waitForConfirms();

      await page.selectOption("#vhost-select", "ui-chan-other");
      await waitFor(async () =>
        (await rows.count()) === 1 && (await rows.first().locator("td").nth(2).textContent()) === "ui-chan-other"
          ? true
          : null,
      );
      assert.equal((await rows.first().locator("td").nth(5).textContent())?.trim(), "11");
      await page.selectOption("#vhost-select", "");
      await ui.screenshot("channels");
      ui.assertClean();
    } finally {
      await other.close();
      await connection.close();
    }
  },
);

test("force closing a connection that has gone already shows the API's 404 in the live region", { skip }, async () => {
  const { page, api, broker } = ui;
  const connection = await amqplib.connect(broker.url, { clientProperties: { connection_name: "leaves-first" } });
  await ui.open("connections", "Connections");
  await row("leaves-first").locator("a").click();
  await page.waitForSelector("main h2:has-text('Connection leaves-first')");
  await page.selectOption("#refresh-select", "0"); // the page must still offer the button when the click comes
  const name = String((await api.json<Item[]>("/api/connections"))[0]?.["name"]);
  await connection.close();
  await waitFor(async () => ((await api.json<Item[]>("/api/connections")).length === 0 ? true : null));
  const expected = await api.delete(`/api/connections/${encodeURIComponent(name)}`);
  assert.equal(expected.status, 404);
  await page.click("#close button[type=submit]");
  await page.waitForSelector(`#errors[aria-live]:has-text("${(expected.json as { reason: string }).reason}")`);
  await broker.assertHealthy();
  ui.assertClean();
});
