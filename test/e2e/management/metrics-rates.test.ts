import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";
import { scrape as scrapeAt } from "./exposition.js";

// A short sampling interval so that a rate shows up without waiting RabbitMQ's 5 s.
const warren = useBroker({ management: { statsIntervalMs: 100 } });
const api = Api.lazy(warren);

const scrape = (path: string): Promise<Map<string, number>> => scrapeAt(warren.broker.broker.urls.http ?? "", path);

test("/metrics exposes RabbitMQ's aggregated metric names that follow traffic", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("metrics-q");
  for (let i = 0; i < 4; i++) channel.sendToQueue("metrics-q", Buffer.from(`m${i}`));
  await waitFor(async () => (await api.json<Item>("/api/queues/%2F/metrics-q"))["messages"] === 4);
  const message = await channel.get("metrics-q", { noAck: false });
  assert.ok(message);
  const metrics = await scrape("/metrics");
  assert.equal(metrics.get("rabbitmq_connections"), 1);
  assert.equal(metrics.get("rabbitmq_channels"), 1);
  assert.equal(metrics.get("rabbitmq_queues"), 1);
  assert.equal(metrics.get("rabbitmq_queue_messages_ready"), 3);
  assert.equal(metrics.get("rabbitmq_queue_messages_unacked"), 1);
  assert.equal(metrics.get("rabbitmq_queue_messages"), 4);
  assert.equal(metrics.get("rabbitmq_channel_messages_published_total"), 4);
  assert.equal(metrics.get("rabbitmq_global_messages_received_total"), 4);
  assert.equal(metrics.get("rabbitmq_channel_get_ack_total"), 1);
  assert.equal(metrics.get("rabbitmq_channel_get_total"), 0);
  assert.equal(
    [...metrics.keys()].some((key) => key.startsWith("rabbitmq_queue_messages_ready{")),
    false,
  );
  await connection.close();
});

test("/metrics/per-object labels queue metrics with vhost and queue", async () => {
  await api.put("/api/queues/%2F/per-object-q", {});
  await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "per-object-q",
    payload: "x",
    payload_encoding: "string",
  });
  const metrics = await scrape("/metrics/per-object");
  assert.equal(metrics.get('rabbitmq_queue_messages_ready{vhost="/",queue="per-object-q"}'), 1);
  assert.equal(metrics.get('rabbitmq_queue_messages_published_total{vhost="/",queue="per-object-q"}'), 1);
});

test("publish rates appear in message_stats *_details.rate", async () => {
  await api.put("/api/queues/%2F/rate-q", {});
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  // Keep publishing until a sample sees the counter move.
  const rate = await waitFor(async () => {
    for (let i = 0; i < 50; i++) channel.sendToQueue("rate-q", Buffer.from("r"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queue = await api.json<Item>("/api/queues/%2F/rate-q");
    const details = (queue["message_stats"] as Item)["publish_details"] as Item;
    return (details["rate"] as number) > 0 ? (details["rate"] as number) : null;
  });
  assert.ok(rate > 0);
  const overview = await api.json<Item>("/api/overview");
  assert.equal(typeof ((overview["message_stats"] as Item)["publish_details"] as Item)["rate"], "number");
  await connection.close();
});
