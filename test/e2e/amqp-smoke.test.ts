import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../helpers/broker.js";
import { useBroker } from "../helpers/amqp-fixture.js";

const warren = useBroker();

test("a message published to a queue is consumed and acked over amqplib", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const received: string[] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    received.push(message.content.toString());
    channel.ack(message);
  });
  channel.sendToQueue(queue, Buffer.from("hello"), { contentType: "text/plain", headers: { n: 1 } });
  await waitFor(() => received.length === 1);
  assert.deepEqual(received, ["hello"]);
  await connection.close();
});
