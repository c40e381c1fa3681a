import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";
import { scrape as scrapeAt } from "./exposition.js";

const WATERMARK = 3_000_000_000;
const DISK_LIMIT = 12_345_678;
const warren = useBroker({ alarms: { memoryHighWatermark: WATERMARK, diskFreeLimit: DISK_LIMIT } });
const api = Api.lazy(warren);
const scrape = (path: string): Promise<Map<string, number>> => scrapeAt(warren.broker.broker.urls.http ?? "", path);

test("connection, channel and queue churn counters follow what clients do", async () => {
  const before = await scrape("/metrics");
  const connection = await amqplib.connect(warren.broker.url);
  const first = await connection.createChannel();
  const second = await connection.createChannel();
  await first.assertQueue("churn-q");
  await first.assertQueue("churn-q"); // a redeclaration: declared, not created
  await first.deleteQueue("churn-q");
  await second.close();
  const during = await scrape("/metrics");
  const delta = (name: string, now: Map<string, number>): number => (now.get(name) ?? NaN) - (before.get(name) ?? NaN);
  assert.equal(delta("rabbitmq_connections_opened_total", during), 1);
  assert.equal(delta("rabbitmq_connections_closed_total", during), 0);
  assert.equal(delta("rabbitmq_channels_opened_total", during), 2);
  assert.equal(delta("rabbitmq_channels_closed_total", during), 1);
  assert.equal(delta("rabbitmq_queues_declared_total", during), 2);
  assert.equal(delta("rabbitmq_queues_created_total", during), 1);
  assert.equal(delta("rabbitmq_queues_deleted_total", during), 1);
  await connection.close();
  await waitFor(async () => ((await scrape("/metrics")).get("rabbitmq_connections") === 0 ? true : null));
  const after = await scrape("/metrics");
  assert.equal(delta("rabbitmq_connections_closed_total", after), 1);
  assert.equal(delta("rabbitmq_channels_closed_total", after), 2);
});

test("delivered_ack_total counts manual-ack deliveries and delivered_total auto-ack ones, as rabbitmq_prometheus", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("manual-q");
  await channel.assertQueue("auto-q");
  for (let i = 0; i < 3; i++) channel.sendToQueue("manual-q", Buffer.from("m"));
  channel.sendToQueue("auto-q", Buffer.from("a"));
  let manual = 0;
  await channel.consume("manual-q", (message) => {
    if (message) {
      manual++;
      channel.ack(message);
    }
  });
  let auto = 0;
  await channel.consume("auto-q", () => auto++, { noAck: true });
  await waitFor(async () => (manual === 3 && auto === 1 ? true : null));
  const metrics = await waitFor(async () => {
    const m = await scrape("/metrics");
    return m.get("rabbitmq_channel_messages_acked_total") === 3 ? m : null;
  });
  assert.equal(metrics.get("rabbitmq_channel_messages_delivered_ack_total"), 3);
  assert.equal(metrics.get("rabbitmq_channel_messages_delivered_total"), 1);
  assert.equal(metrics.get("rabbitmq_global_messages_delivered_consume_manual_ack_total"), 3);
  assert.equal(metrics.get("rabbitmq_global_messages_delivered_consume_auto_ack_total"), 1);
  assert.equal(metrics.get("rabbitmq_channel_consumers"), 2);
  assert.equal(metrics.get("rabbitmq_global_publishers"), 1);
  await connection.close();
});

test("message sizes, routed and get-empty counters", async () => {
  const before = await scrape("/metrics");
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("sizes-q");
  channel.sendToQueue("sizes-q", Buffer.alloc(10));
  channel.sendToQueue("sizes-q", Buffer.alloc(1000));
  channel.publish("amq.direct", "nowhere", Buffer.alloc(100_000)); // unroutable: sized, not routed
  await channel.purgeQueue("sizes-q");
  assert.equal(await channel.get("sizes-q"), false);
  const after = await scrape("/metrics");
  const delta = (name: string): number => (after.get(name) ?? NaN) - (before.get(name) ?? NaN);
  assert.equal(delta('rabbitmq_message_size_bytes_bucket{protocol="all",le="64"}'), 1);
  assert.equal(delta('rabbitmq_message_size_bytes_bucket{protocol="all",le="1024"}'), 2);
  assert.equal(delta('rabbitmq_message_size_bytes_bucket{protocol="all",le="65536"}'), 2);
  assert.equal(delta('rabbitmq_message_size_bytes_bucket{protocol="all",le="262144"}'), 3);
  assert.equal(delta('rabbitmq_message_size_bytes_bucket{protocol="all",le="+Inf"}'), 3);
  assert.equal(delta('rabbitmq_message_size_bytes_sum{protocol="all"}'), 101_010);
  assert.equal(delta('rabbitmq_message_size_bytes_count{protocol="all"}'), 3);
  assert.equal(delta("rabbitmq_global_messages_routed_total"), 2);
  assert.equal(delta("rabbitmq_global_messages_get_empty_total"), 1);
  await connection.close();
});

test("memory, disk and file descriptor figures match /api/nodes and the configured limits", async () => {
  const metrics = await scrape("/metrics");
  const [node] = await api.json<Item[]>("/api/nodes");
  assert.ok(node);
  assert.equal(metrics.get("rabbitmq_resident_memory_limit_bytes"), WATERMARK);
  assert.equal(node["mem_limit"], WATERMARK);
  assert.equal(metrics.get("rabbitmq_disk_space_available_limit_bytes"), DISK_LIMIT);
  assert.equal(node["disk_free_limit"], DISK_LIMIT);
  assert.ok((node["disk_free"] as number) > 0);
  assert.ok((metrics.get("rabbitmq_disk_space_available_bytes") ?? 0) > 0);
  assert.ok((node["fd_total"] as number) > (node["fd_used"] as number));
  assert.ok((node["fd_used"] as number) > 0);
  assert.equal(metrics.get("rabbitmq_process_max_fds"), node["fd_total"]);
  assert.equal(node["sockets_total"], Math.floor((node["fd_total"] as number) * 0.9));
  assert.ok((metrics.get("rabbitmq_process_resident_memory_bytes") ?? 0) > 0);
  assert.ok((metrics.get("rabbitmq_erlang_uptime_seconds") ?? -1) >= 0);
});

test("/metrics/detailed serves only the families asked for, filtered by vhost and queue", async () => {
  await api.put("/api/vhosts/detailed-vh");
  await api.put("/api/permissions/detailed-vh/guest", { configure: ".*", write: ".*", read: ".*" });
  await api.put("/api/queues/%2F/detailed-a");
  await api.put("/api/queues/%2F/detailed-b");
  await api.put("/api/queues/detailed-vh/detailed-c");
  await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "detailed-a",
    payload: "x",
    payload_encoding: "string",
  });

  const bare = await scrape("/metrics/detailed");
  assert.deepEqual(
    [...bare.keys()].map((k) => k.replace(/\{.*$/, "")),
    ["rabbitmq_identity_info"],
  );
  assert.match([...bare.keys()][0] ?? "", /rabbitmq_endpoint="detailed"/);

  const coarse = await scrape("/metrics/detailed?family=queue_coarse_metrics&family=no_such_family&vhost=%2F");
  assert.equal(coarse.get('rabbitmq_detailed_queue_messages_ready{vhost="/",queue="detailed-a"}'), 1);
  assert.equal(coarse.get('rabbitmq_detailed_queue_messages_ready{vhost="/",queue="detailed-b"}'), 0);
  assert.equal(coarse.has('rabbitmq_detailed_queue_messages_ready{vhost="detailed-vh",queue="detailed-c"}'), false);
  assert.equal(
    [...coarse.keys()].some((k) => k.startsWith("rabbitmq_detailed_queue_consumers")),
    false,
  );
  assert.equal(
    [...coarse.keys()].some((k) => k.startsWith("rabbitmq_queue_")),
    false,
  );

  const one = await scrape(
    "/metrics/detailed?family=queue_consumer_count&family=connection_churn_metrics&queue=detailed-c",
  );
  assert.deepEqual(
    [...one.keys()].filter((k) => k.startsWith("rabbitmq_detailed_queue_consumers")),
    ['rabbitmq_detailed_queue_consumers{vhost="detailed-vh",queue="detailed-c"}'],
  );
  assert.ok((one.get("rabbitmq_detailed_queues_created_total") ?? 0) >= 3);
});

test("an unknown /metrics path is 404 and the endpoint keeps serving", async () => {
  const response = await fetch(`${warren.broker.broker.urls.http}/metrics/detailed/extra`);
  assert.equal(response.status, 404);
  await response.text();
  const metrics = await scrape("/metrics");
  assert.equal(metrics.get("rabbitmq_queues"), (await api.json<Item[]>("/api/queues")).length);
});
