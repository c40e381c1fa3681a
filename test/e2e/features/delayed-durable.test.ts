import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { DelayedExchange } from "../../../src/core/exchanges/delayed.js";
import { type TestBroker, sleep, waitFor } from "../../helpers/broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";

const dataDirs = useDataDirs("warren-delayed");

function delayedExchange(broker: TestBroker, name: string): DelayedExchange | undefined {
  const exchange = broker.broker.core.vhosts.get("/")?.exchanges.get(name);
  return exchange instanceof DelayedExchange ? exchange : undefined;
}

const HOUR = 3_600_000;

test("durable x-delayed-message: persistent pending messages survive a restart with their remaining delay; overdue ones come at once", async () => {
  const data = await dataDirs.fresh("restart");
  let before = 0;
  let afterPublish = 0;
  await withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange("dd.x", "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    await channel.assertQueue("dd.q", { durable: true });
    await channel.bindQueue("dd.q", "dd.x", "k");
    before = Date.now();
    channel.publish("dd.x", "k", Buffer.from("overdue"), { persistent: true, headers: { "x-delay": 200 } });
    channel.publish("dd.x", "k", Buffer.from("in an hour"), { persistent: true, headers: { "x-delay": HOUR } });
    channel.publish("dd.x", "k", Buffer.from("transient"), { persistent: false, headers: { "x-delay": 200 } });
    await channel.waitForConfirms();
    afterPublish = Date.now();
    assert.equal(delayedExchange(broker, "dd.x")?.pendingCount, 3);
    await connection.close();
  });
  await sleep(300); // the first message falls due while the broker is down
  await withBrokerOn(data, async (broker) => {
    const exchange = delayedExchange(broker, "dd.x");
    assert.ok(exchange, "the durable delayed exchange is recovered");
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    const got = await waitFor(async () => (await channel.get("dd.q", { noAck: true })) || null);
    assert.equal(got.content.toString(), "overdue");
    assert.equal(got.properties.headers?.["x-delay"], 200, "the message is routed as published");
    // The transient message was not logged (as a transient message in a durable queue); the hour-long one waits on.
    assert.equal(exchange.pendingCount, 1);
    const due = exchange.nextDue as number;
    assert.ok(
      due >= before + HOUR && due <= afterPublish + HOUR,
      "due at its original publish time + x-delay, not restarted",
    );
    assert.equal(await channel.get("dd.q"), false);
    await connection.close();
  });
  // A message routed after recovery left the log: a further restart brings back only the pending one.
  await withBrokerOn(data, async (broker) => {
    assert.equal(delayedExchange(broker, "dd.x")?.pendingCount, 1);
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.equal((await channel.checkQueue("dd.q")).messageCount, 0);
    // Deleting the exchange drops its pending messages, also from the log.
    await channel.deleteExchange("dd.x");
    await channel.assertExchange("dd.x", "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    await connection.close();
  });
  await withBrokerOn(data, async (broker) => {
    assert.equal(delayedExchange(broker, "dd.x")?.pendingCount, 0);
    assert.equal(broker.logs.filter((l) => /no longer exists/.test(String(l["msg"]))).length, 0);
  });
});

test("a non-durable delayed exchange keeps nothing across a restart", async () => {
  const data = await dataDirs.fresh("transient");
  await withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange("dt.x", "x-delayed-message", {
      durable: false,
      arguments: { "x-delayed-type": "fanout" },
    });
    await channel.assertQueue("dt.q", { durable: true });
    await channel.bindQueue("dt.q", "dt.x", "");
    channel.publish("dt.x", "", Buffer.from("m"), { persistent: true, headers: { "x-delay": HOUR } });
    await channel.waitForConfirms();
    await connection.close();
  });
  await withBrokerOn(data, async (broker) => {
    assert.equal(broker.broker.core.vhosts.get("/")?.exchanges.has("dt.x"), false);
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.equal((await channel.checkQueue("dt.q")).messageCount, 0);
    await connection.close();
  });
});

test("past 10,000 pending a durable delayed exchange keeps only ids in memory and reads messages back when due, in due order", async () => {
  const data = await dataDirs.fresh("paged");
  const count = 10_500;
  await withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange("dp.x", "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    await channel.assertQueue("dp.q", { durable: true });
    await channel.bindQueue("dp.q", "dp.x", "k");
    // Later publishes get shorter delays: only the exchange's ordering can put them first. A second
    // apart, so that a slow publisher (a loaded machine) cannot reorder them by publishing late.
    for (let i = 0; i < count; i++) {
      channel.publish("dp.x", "k", Buffer.from(`m${i}`), {
        persistent: true,
        headers: { "x-delay": 4 * HOUR - i * 1000 },
      });
    }
    await channel.waitForConfirms();
    const exchange = delayedExchange(broker, "dp.x") as DelayedExchange;
    assert.equal(exchange.pendingCount, count);
    await waitFor(() => exchange.pendingInMemory <= 10_000);
    await connection.close();
  });
  await withBrokerOn(data, async (broker) => {
    const exchange = delayedExchange(broker, "dp.x") as DelayedExchange;
    assert.equal(exchange.pendingCount, count);
    assert.ok(exchange.pendingInMemory <= 10_000, "recovery keeps the excess as ids only");
    // Bring every message due now by moving the clock forward for this exchange's timer.
    const realNow = Date.now;
    Date.now = () => realNow() + 5 * HOUR;
    try {
      (exchange as unknown as { release(): void }).release();
    } finally {
      Date.now = realNow;
    }
    assert.equal(exchange.pendingCount, 0);
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.equal((await channel.checkQueue("dp.q")).messageCount, count);
    const first = await channel.get("dp.q", { noAck: true });
    assert.equal(first && first.content.toString(), `m${count - 1}`);
    await channel.purgeQueue("dp.q");
    await connection.close();
  });
});

test("a persistent message taken with no-ack (basic.get or an auto-ack consumer) does not come back after a restart", async () => {
  const data = await dataDirs.fresh("noack");
  await withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("na.get", { durable: true });
    await channel.assertQueue("na.consume", { durable: true });
    channel.sendToQueue("na.get", Buffer.from("g"), { persistent: true });
    channel.sendToQueue("na.consume", Buffer.from("c"), { persistent: true });
    await channel.waitForConfirms();
    assert.ok(await channel.get("na.get", { noAck: true }));
    const got: string[] = [];
    await channel.consume("na.consume", (m) => m && got.push(m.content.toString()), { noAck: true });
    await waitFor(() => got.length === 1);
    await connection.close();
  });
  await withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.equal((await channel.checkQueue("na.get")).messageCount, 0);
    assert.equal((await channel.checkQueue("na.consume")).messageCount, 0);
    await connection.close();
  });
});
