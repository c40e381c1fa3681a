import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

// No sample runs during a test (1 h interval): totals must be exact without the sampler's help.
const warren = useBroker({ management: { statsIntervalMs: 3_600_000 } });
const api = Api.lazy(warren);

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${warren.broker.broker.urls.http}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} is exposed`);
  return Number(line.split(" ")[1]);
}

const statsOf = (channel: Item): Item => channel["message_stats"] as Item;

test("/api/channels message_stats are each channel's own counters, as RabbitMQ's rabbit_channel counts them", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  const idle = await connection.createChannel();
  await publisher.assertQueue("chan-stats");
  for (let i = 0; i < 3; i++) publisher.sendToQueue("chan-stats", Buffer.from(`m${i}`));
  publisher.publish("", "no-such-queue", Buffer.from("lost"), { mandatory: true });
  publisher.publish("", "no-such-queue", Buffer.from("dropped"));
  await publisher.waitForConfirms();

  const first = await consumer.get("chan-stats", { noAck: false });
  assert.ok(first);
  consumer.nack(first, false, true); // back to the queue: the next get is a redelivery
  const again = await consumer.get("chan-stats", { noAck: false });
  assert.ok(again && again.fields.redelivered);
  consumer.ack(again);
  await consumer.get("chan-stats", { noAck: true });
  await consumer.get("chan-stats", { noAck: true });
  assert.equal(await consumer.get("chan-stats", { noAck: true }), false);

  const channels = await waitFor(async () => {
    const all = await api.json<Item[]>("/api/channels");
    const mine = all.filter((c) => (c["connection_details"] as Item)["peer_port"] !== undefined);
    const byNumber = new Map(mine.map((c) => [c["number"] as number, c]));
    const c2 = byNumber.get(2);
    return c2 && (statsOf(c2)["ack"] as number) === 1 ? byNumber : null;
  });
  const pub = statsOf(channels.get(1) as Item);
  assert.equal(pub["publish"], 5);
  assert.equal(pub["confirm"], 5);
  assert.equal(pub["return_unroutable"], 1);
  assert.equal(pub["drop_unroutable"], 1);
  assert.equal(pub["deliver_get"], 0);
  assert.deepEqual(pub["publish_details"], { rate: 0 });

  const con = statsOf(channels.get(2) as Item);
  assert.equal(con["publish"], 0);
  assert.equal(con["get"], 2);
  assert.equal(con["get_no_ack"], 2);
  assert.equal(con["get_empty"], 1);
  assert.equal(con["deliver_get"], 4);
  assert.equal(con["redeliver"], 1);
  assert.equal(con["ack"], 1);
  assert.equal(typeof (con["ack_details"] as Item)["rate"], "number");

  assert.deepEqual(statsOf(channels.get(3) as Item), {}, "a channel that did nothing has no message_stats yet");
  void idle;
  await connection.close();
});

test("channel and global _total metrics never go backwards when channels close", async () => {
  const publishedBefore = await metric("rabbitmq_channel_messages_published_total");
  const ackedBefore = await metric("rabbitmq_global_messages_acknowledged_total");
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("", { exclusive: true }).then(async ({ queue }) => {
    channel.sendToQueue(queue, Buffer.from("a"));
    channel.sendToQueue(queue, Buffer.from("b"));
    const message = await waitFor(async () => (await channel.get(queue)) || null);
    channel.ack(message);
  });
  await waitFor(async () => (await metric("rabbitmq_channel_messages_acked_total")) >= ackedBefore + 1);
  const publishedOpen = await metric("rabbitmq_channel_messages_published_total");
  assert.equal(publishedOpen, publishedBefore + 2);
  await connection.close();
  await waitFor(async () => (await api.json<Item[]>("/api/connections")).length === 0);
  assert.equal(
    await metric("rabbitmq_channel_messages_published_total"),
    publishedOpen,
    "a closed channel's publishes still count",
  );
  assert.equal(await metric("rabbitmq_global_messages_received_total"), publishedOpen);
  assert.equal(await metric("rabbitmq_global_messages_acknowledged_total"), ackedBefore + 1);
});

test("a queue deleted before any stats sample still counts in /api/overview and the metrics totals", async () => {
  const totals = async (): Promise<Item> => (await api.json<Item>("/api/overview"))["message_stats"] as Item;
  const before = await totals();
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("short-lived");
  channel.sendToQueue("short-lived", Buffer.from("x"));
  channel.sendToQueue("short-lived", Buffer.from("y"));
  const got = await waitFor(async () => (await channel.get("short-lived")) || null);
  channel.ack(got);
  await channel.consume("short-lived", () => undefined, { noAck: true });
  await waitFor(async () => (await api.json<Item>("/api/queues/%2F/short-lived"))["messages"] === 0);
  await channel.deleteQueue("short-lived");
  const after = await totals();
  assert.equal((after["publish"] as number) - (before["publish"] as number), 2);
  assert.equal((after["get"] as number) - (before["get"] as number), 1);
  assert.equal((after["deliver"] as number) - (before["deliver"] as number), 1);
  assert.equal((after["ack"] as number) - (before["ack"] as number), 1);
  assert.equal((after["deliver_get"] as number) - (before["deliver_get"] as number), 2);
  await connection.close();
});

test("message_bytes_unacknowledged counts the body bytes of a queue's unacked deliveries", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("unacked-bytes");
  channel.sendToQueue("unacked-bytes", Buffer.from("12345"));
  channel.sendToQueue("unacked-bytes", Buffer.from("1234567"));
  const held = await waitFor(async () => (await channel.get("unacked-bytes")) || null);
  const queue = await waitFor(async () => {
    const q = await api.json<Item>("/api/queues/%2F/unacked-bytes");
    return q["messages_unacknowledged"] === 1 ? q : null;
  });
  assert.equal(queue["message_bytes_unacknowledged"], 5);
  assert.equal(queue["message_bytes_ready"], 7);
  assert.equal(queue["message_bytes"], 12);
  channel.ack(held);
  await waitFor(
    async () => (await api.json<Item>("/api/queues/%2F/unacked-bytes"))["message_bytes_unacknowledged"] === 0,
  );
  await channel.deleteQueue("unacked-bytes");
  await connection.close();
});

test("GET /api/channels/<unknown> answers RabbitMQ's 404 body", async () => {
  const response = await api.get(`/api/channels/${encodeURIComponent("127.0.0.1:1 -> 127.0.0.1:2 (1)")}`);
  assert.equal(response.status, 404);
  assert.deepEqual(response.json, { error: "Object Not Found", reason: "Not Found" });
});
