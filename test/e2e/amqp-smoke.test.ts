import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { TestBroker, waitFor } from "../helpers/broker.js";

let broker: TestBroker;
before(async () => {
  broker = await TestBroker.start();
});
after(async () => {
  await broker.stop();
});

test("a message published to a queue is consumed and acked over amqplib", async () => {
  const connection = await amqplib.connect(broker.url);
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
