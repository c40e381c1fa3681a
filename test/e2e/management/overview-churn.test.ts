import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

// A short sampling interval so that a rate shows up without waiting RabbitMQ's 5 s.
const warren = useBroker({ management: { statsIntervalMs: 100 } });
const api = Api.lazy(warren);

const overview = async (): Promise<Item> => api.json<Item>("/api/overview");
const CHURN_KEYS = [
  "connection_created",
  "connection_closed",
  "channel_created",
  "channel_closed",
  "queue_declared",
  "queue_created",
  "queue_deleted",
];

test("/api/overview has RabbitMQ 3.10's churn_rates: counts of objects opened and closed, each with a rate", async () => {
  const before = (await overview())["churn_rates"] as Item;
  // RabbitMQ 3.10 (checked on :15673) answers these seven keys, each with a _details.rate.
  assert.deepEqual(Object.keys(before).sort(), CHURN_KEYS.flatMap((k) => [k, `${k}_details`]).sort());
  const connection = await amqplib.connect(warren.broker.url);
  const first = await connection.createChannel();
  const second = await connection.createChannel();
  await first.assertQueue("churn-api-q");
  await first.assertQueue("churn-api-q"); // declared again, not created
  await first.deleteQueue("churn-api-q");
  await second.close();
  const during = (await overview())["churn_rates"] as Item;
  const delta = (key: string, now: Item): number => (now[key] as number) - (before[key] as number);
  assert.deepEqual(
    CHURN_KEYS.map((k) => delta(k, during)),
    [1, 0, 2, 1, 2, 1, 1],
  );
  // a sample taken while channels keep opening shows a rate above zero (each probe opens and closes one more)
  const rate = await waitFor(async () => {
    await (await connection.createChannel()).close();
    const churn = (await overview())["churn_rates"] as Item;
    return ((churn["channel_created_details"] as Item)["rate"] as number) > 0 ? churn : null;
  }, 10_000);
  assert.ok(((rate["channel_closed_details"] as Item)["rate"] as number) >= 0);
  await connection.close();
  const after = await waitFor(async () => {
    const churn = (await overview())["churn_rates"] as Item;
    return delta("connection_closed", churn) === 1 ? churn : null;
  });
  assert.equal(delta("connection_created", after), 1);
  assert.equal(
    delta("channel_closed", after),
    (after["channel_created"] as number) - (before["channel_created"] as number),
  );
});

test("/api/overview's message_stats has the channel-only counters: confirm, unroutable, auto-ack deliveries, empty gets", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue("churn-stats-q");
  await new Promise<void>((resolve, reject) =>
    channel.publish("amq.direct", "nowhere", Buffer.from("x"), {}, (error) =>
      error ? reject(error as Error) : resolve(),
    ),
  );
  await new Promise<void>((resolve, reject) =>
    channel.sendToQueue("churn-stats-q", Buffer.from("y"), {}, (error) => (error ? reject(error as Error) : resolve())),
  );
  assert.ok(await channel.get("churn-stats-q", { noAck: true }));
  assert.equal(await channel.get("churn-stats-q", { noAck: true }), false);
  const stats = (await overview())["message_stats"] as Item;
  assert.deepEqual(
    ["confirm", "drop_unroutable", "get_no_ack", "get_empty", "return_unroutable", "deliver_no_ack"].map((k) => [
      k,
      stats[k],
      typeof (stats[`${k}_details`] as Item)["rate"],
    ]),
    [
      ["confirm", 2, "number"],
      ["drop_unroutable", 1, "number"],
      ["get_no_ack", 1, "number"],
      ["get_empty", 1, "number"],
      ["return_unroutable", 0, "number"],
      ["deliver_no_ack", 0, "number"],
    ],
  );
  await connection.close();
  // the broker still serves a new client
  const fresh = await amqplib.connect(warren.broker.url);
  await (await fresh.createChannel()).checkQueue("churn-stats-q");
  await fresh.close();
});
