import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

const queues = () => warren.broker.broker.core.vhosts.get("/")?.queues as Map<string, unknown>;

const locked = (queue: string): string =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${queue}' in vhost '/'. ` +
  "It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.";

test("another connection gets 405 RESOURCE_LOCKED for every use of an exclusive queue", async () => {
  const owner = await amqplib.connect(warren.broker.url);
  const ownerChannel = await openChannel(owner);
  await ownerChannel.assertQueue("owned", { exclusive: true });

  const intruder = await amqplib.connect(warren.broker.url);
  const attempts: Array<[string, (channel: amqplib.Channel) => Promise<unknown>]> = [
    ["declare", (c) => c.assertQueue("owned", { exclusive: true })],
    ["declare non-exclusive", (c) => c.assertQueue("owned")],
    ["passive declare", (c) => c.checkQueue("owned")],
    ["consume", (c) => c.consume("owned", () => {})],
    ["get", (c) => c.get("owned")],
    ["purge", (c) => c.purgeQueue("owned")],
    ["delete", (c) => c.deleteQueue("owned")],
    ["bind", (c) => c.bindQueue("owned", "amq.direct", "k")],
  ];
  for (const [what, attempt] of attempts) {
    const channel = await openChannel(intruder);
    await rejectsWithClose(attempt(channel), 405, locked("owned")).catch((error: unknown) => {
      throw new Error(`${what}: ${String(error)}`);
    });
  }
  // The owner is unaffected.
  ownerChannel.sendToQueue("owned", Buffer.from("mine"));
  const message = await waitFor(async () => (await ownerChannel.get("owned", { noAck: true })) || null);
  assert.equal(message.content.toString(), "mine");
  await intruder.close();
  await owner.close();
  await warren.broker.assertHealthy();
});

test("an exclusive queue is deleted when its connection closes", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  assert.ok(queues().has(name));
  await client.close();
  await waitFor(() => !queues().has(name));
  const connection = await amqplib.connect(warren.broker.url);
  const check = await openChannel(connection);
  await rejectsWithClose(check.checkQueue(name), 404, `NOT_FOUND - no queue '${name}' in vhost '/'`);
  await connection.close();
});

test("an exclusive queue is deleted when its connection drops without closing", async () => {
  // heartbeat=0: amqplib does not stop its heartbeat timers for a socket cut under it.
  const connection = await amqplib.connect(`${warren.broker.url}?heartbeat=0`);
  const channel = await openChannel(connection);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  connection.on("error", () => {});
  // Cut the socket: no connection.close handshake.
  (connection as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  await waitFor(() => !queues().has(queue));
});

test("an auto-delete queue goes when its last consumer is cancelled, not before", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await channel.assertQueue("auto-del", { autoDelete: true });
  const first = await channel.consume("auto-del", () => {});
  const second = await channel.consume("auto-del", () => {});
  await channel.cancel(first.consumerTag);
  assert.equal((await channel.checkQueue("auto-del")).consumerCount, 1);
  await channel.cancel(second.consumerTag);
  await waitFor(() => !queues().has("auto-del"));
  await rejectsWithClose(channel.checkQueue("auto-del"), 404, "NOT_FOUND - no queue 'auto-del' in vhost '/'");
  await connection.close();
});

test("an auto-delete queue that never had a consumer stays", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("auto-del-unused", { autoDelete: true, durable: false });
  const { name } = await channel.queueDeclare("auto-del-unused", { passive: true });
  assert.equal(name, "auto-del-unused");
  await channel.queueDelete("auto-del-unused");
  await client.close();
});

test("an auto-delete queue goes when its consumer's connection closes", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("auto-del-conn", { autoDelete: true, durable: false });
  await channel.basicConsume("auto-del-conn", { noAck: true }, () => {});
  assert.ok(queues().has("auto-del-conn"));
  await client.close();
  await waitFor(() => !queues().has("auto-del-conn"));
});
