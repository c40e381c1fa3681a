import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import type { Item } from "./api-client.js";
import { steadily, UiSession } from "./ui-session.js";

// A short sampling interval so that the charts' rates move within the test.
const ui = UiSession.use(1280, { management: { statsIntervalMs: 200 } });
const skip = ui.skip;

const openQueue = (name: string): Promise<void> => ui.goto(`queue/%2F/${name}`, `Queue ${name}`);

test(
  "queue page: bind and unbind, publish with delivery mode, properties and headers, get with ack mode and see them",
  { skip },
  async () => {
    const { page, api } = ui;
    assert.equal(
      (await api.put("/api/queues/%2F/ui-detail", { durable: true, arguments: { "x-message-ttl": 60000 } })).status,
      201,
    );
    await openQueue("ui-detail");
    await page.waitForSelector("main dd:has-text('x-message-ttl: 60000')");

    await page.fill("#bind input[name=source]", "amq.direct");
    await page.fill("#bind input[name=routing_key]", "rk-ui");
    await page.click("#bind button[type=submit]");
    await page.waitForSelector("main a[href='#exchange/%2F/amq.direct']");
    const bindings = await api.json<Item[]>("/api/bindings/%2F/e/amq.direct/q/ui-detail");
    assert.deepEqual(
      bindings.map((b) => b["routing_key"]),
      ["rk-ui"],
    );

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
    const [message] = (
      await api.post("/api/queues/%2F/ui-detail/get", { count: 1, ackmode: "ack_requeue_true", encoding: "auto" })
    ).json as Item[];
    assert.deepEqual((message?.["properties"] as Item)["headers"], { "x-origin": "browser", "x-count": 3 });
    assert.equal((message?.["properties"] as Item)["delivery_mode"], 2);
    assert.equal(message?.["payload"], long);

    await page.click("button[data-action=unbind]:not([data-path$='/'])");
    await page.waitForSelector("main a[href='#exchange/%2F/amq.direct']", { state: "detached" });
    assert.deepEqual(await api.json<Item[]>("/api/bindings/%2F/e/amq.direct/q/ui-detail"), []);
    await ui.screenshot("queue-detail");
    ui.assertClean();
  },
);

test("queue page: purge and delete ask for confirmation; declining changes nothing", { skip }, async () => {
  const { page, api } = ui;
  await api.put("/api/queues/%2F/ui-confirm", { durable: true });
  await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "ui-confirm",
    payload: "x",
    payload_encoding: "string",
  });
  await openQueue("ui-confirm");
  await page.waitForSelector("#move button[type=submit]");

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
  assert.deepEqual(ui.dialogs, [
    "Purge all messages of queue ui-confirm?",
    "Delete queue ui-confirm?",
    "Purge all messages of queue ui-confirm?",
    "Delete queue ui-confirm?",
  ]);
  ui.assertClean();
});

test(
  "queue page: charts of queued messages and rates, consumers, the policy and operator policy with their merged definition",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    assert.equal(
      (
        await api.put("/api/policies/%2F/ui-qp", {
          pattern: "^ui-charted$",
          definition: { "max-length": 500, "message-ttl": 60000 },
          "apply-to": "queues",
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await api.put("/api/operator-policies/%2F/ui-qop", {
          pattern: "^ui-charted$",
          definition: { "max-length": 100, expires: 3600000 },
          "apply-to": "queues",
        })
      ).status,
      201,
    );
    const connection = await amqplib.connect(broker.url);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(5);
      await channel.assertQueue("ui-charted", { durable: false });
      await channel.consume("ui-charted", () => undefined, { consumerTag: "ui-tag" }); // never acks: 5 stay unacked
      for (let i = 0; i < 8; i++) channel.sendToQueue("ui-charted", Buffer.from("x"));
      await openQueue("ui-charted");
      await page.selectOption("#refresh-select", "5000");
      // RabbitMQ 3.10 (checked on :15673) merges them: the operator's lower max-length wins, its expires is added
      await page.waitForSelector("#queue-policy:text-is('ui-qp')");
      assert.equal(
        (await page.locator("main dd", { has: page.locator("code:text-is('max-length: 100')") }).count()) >= 1,
        true,
      );
      const queue = await api.json<Item>("/api/queues/%2F/ui-charted");
      assert.deepEqual(
        [queue["policy"], queue["operator_policy"], queue["effective_policy_definition"]],
        ["ui-qp", "ui-qop", { "max-length": 100, "message-ttl": 60000, expires: 3600000 }],
      );
      assert.equal(await page.locator("main dd:text-is('ui-qop')").count(), 1);

      const consumer = page.locator("main tr", { has: page.locator("td:text-is('ui-tag')") });
      assert.deepEqual((await consumer.locator("td").allTextContents()).slice(1, 5), ["ui-tag", "true", "false", "5"]);

      // each refresh adds a point; the queued chart's legend shows the latest figures
      const ready = page.locator("#chart-queued .legend span", { hasText: "Ready" }).locator("b");
      const unacked = page.locator("#chart-queued .legend span", { hasText: "Unacked" }).locator("b");
      await page.waitForSelector("#chart-queued polyline[points*=' ']", { state: "attached", timeout: 20_000 });
      assert.deepEqual([await ready.textContent(), await unacked.textContent()], ["3", "5"]);
      // a steady publisher shows in the rates chart once a sample has seen it
      const stop = steadily(() => channel.sendToQueue("ui-charted", Buffer.from("y")));
      try {
        await page
          .locator("#chart-rates .legend span", { hasText: "Publish" })
          .locator("b:not(:text-is('0/s'))")
          .waitFor({ timeout: 20_000 });
      } finally {
        stop();
      }
      await page.selectOption("#chart-window", "60000");
      await page.waitForSelector("#chart-window option[value='60000']:checked", { state: "attached" });
      assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('warren-window')"), "60000");
      await ui.screenshot("queue-charts");
      ui.assertClean();
    } finally {
      await connection.close();
    }
  },
);

test(
  "queue page: move messages to another queue; a missing destination shows the API's refusal",
  { skip },
  async () => {
    const { page, api } = ui;
    await api.put("/api/queues/%2F/ui-mv-src", { durable: true });
    await api.put("/api/queues/%2F/ui-mv-dst", { durable: true });
    for (const payload of ["one", "two", "three"]) await api.publishToQueue("ui-mv-src", payload, { delivery_mode: 2 });
    await openQueue("ui-mv-src");
    await page.waitForSelector("#queue-messages:text-is('3')");

    await page.fill("#move input[name=destination]", "ui-nope");
    await page.click("#move button[type=submit]");
    await page.waitForSelector(`#errors[aria-live]:has-text("no queue 'ui-nope' in vhost '/'")`);
    assert.equal((await api.json<Item>("/api/queues/%2F/ui-mv-src"))["messages"], 3);

    await page.fill("#move input[name=destination]", "ui-mv-dst");
    await page.click("#move button[type=submit]");
    await page.waitForSelector("#move-result:text-is('Moved 3 messages to ui-mv-dst.')");
    await page.waitForSelector("#queue-messages:text-is('0')");
    const moved = await api.post("/api/queues/%2F/ui-mv-dst/get", {
      count: 5,
      ackmode: "ack_requeue_false",
      encoding: "auto",
    });
    assert.deepEqual(
      (moved.json as Item[]).map((m) => m["payload"]),
      ["one", "two", "three"],
    );
    ui.assertClean();
    await api.delete("/api/queues/%2F/ui-mv-src");
    await api.delete("/api/queues/%2F/ui-mv-dst");
  },
);

test(
  "queue page of a stream: its segments (count, bytes, first and last offset), as retention leaves them",
  { skip },
  async () => {
    const { page, api } = ui;
    // 200-byte segments: each of these entries (about 100 bytes stored) fills one.
    const args = { "x-queue-type": "stream", "x-stream-max-segment-size-bytes": 200, "x-max-length-bytes": 1000 };
    assert.equal((await api.put("/api/queues/%2F/ui-stream-detail", { durable: true, arguments: args })).status, 201);
    await openQueue("ui-stream-detail");
    await page.waitForSelector("#stream-segments:text-is('0 segments, 0 B, empty')");
    for (let i = 0; i < 3; i++) await api.publishToQueue("ui-stream-detail", "x".repeat(80), { delivery_mode: 2 });
    const segments = (await api.json<Item>("/api/queues/%2F/ui-stream-detail"))["stream_segments"] as Item;
    assert.deepEqual([segments["count"], segments["first_offset"], segments["last_offset"]], [3, 0, 2]);
    await page.reload();
    await page.waitForSelector(
      `#stream-segments:text-is('3 segments, ${String(segments["bytes"])} B, offsets 0 to 2')`,
    );
    // Past x-max-length-bytes, the oldest segments go when a new one starts: the first offset moves on.
    for (let i = 0; i < 20; i++) await api.publishToQueue("ui-stream-detail", "x".repeat(80), { delivery_mode: 2 });
    const after = (await api.json<Item>("/api/queues/%2F/ui-stream-detail"))["stream_segments"] as Item;
    assert.ok((after["first_offset"] as number) > 0, JSON.stringify(after));
    assert.equal(after["last_offset"], 22);
    await page.reload();
    await page.waitForSelector(`#stream-segments:has-text('offsets ${String(after["first_offset"])} to 22')`);
    ui.assertClean();
    await api.delete("/api/queues/%2F/ui-stream-detail");
  },
);
