import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

interface AckFields {
  deliveryTag: number;
  multiple: boolean;
}

test("every publish on a confirm channel is acked, acks covering several with multiple", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createConfirmChannel();
  const acks: AckFields[] = [];
  channel.on("ack", (fields: AckFields) => acks.push(fields));
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const confirmed: number[] = [];
  const count = 1000;
  for (let i = 1; i <= count; i++) {
    channel.sendToQueue(queue, Buffer.from(String(i)), {}, (error) => {
      assert.equal(error, null);
      confirmed.push(i);
    });
  }
  await channel.waitForConfirms();
  assert.equal(confirmed.length, count);
  // Every sequence number is covered exactly once by the acks, in order.
  let upTo = 0;
  for (const ack of acks) {
    assert.ok(ack.deliveryTag > upTo, "acks move forward");
    if (!ack.multiple) assert.equal(ack.deliveryTag, upTo + 1);
    upTo = ack.deliveryTag;
  }
  assert.equal(upTo, count);
  assert.ok(
    acks.some((ack) => ack.multiple),
    "a burst of publishes is confirmed with multiple acks",
  );
  assert.equal((await channel.checkQueue(queue)).messageCount, count);
  await connection.close();
});

test("a mandatory unroutable publish is returned 312 NO_ROUTE before its ack", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createConfirmChannel();
  const events: string[] = [];
  channel.on("return", (message: amqplib.Message) => {
    const fields = message.fields as amqplib.MessageFields & { replyCode: number; replyText: string };
    events.push(`return ${fields.replyCode} ${fields.replyText} ${message.content.toString()}`);
  });
  channel.on("ack", (fields: AckFields) => events.push(`ack ${fields.deliveryTag}`));
  channel.publish("amq.direct", "nobody-bound", Buffer.from("lost"), { mandatory: true });
  await channel.waitForConfirms();
  assert.deepEqual(events, ["return 312 NO_ROUTE lost", "ack 1"]);
  await connection.close();
});

test("amqp-client's confirmed publishes resolve with their sequence numbers", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.confirmSelect();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  const seqs = await Promise.all([1, 2, 3, 4, 5].map((i) => channel.basicPublish("", name, `m${i}`)));
  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  await waitFor(async () => (await channel.queueDeclare(name, { passive: true })).messageCount === 5);
  // An unroutable non-mandatory publish is still confirmed (it is safe: dropped by design).
  assert.equal(await channel.basicPublish("amq.direct", "nobody", "dropped"), 6);
  await client.close();
});
