import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { TestBroker, sleep, waitFor } from "../../helpers/broker.js";

let broker: TestBroker;
before(async () => {
  // This test drives the blocked state by hand; a real memory alarm firing on a busy
  // machine would interfere, so the alarms poll (practically) never.
  broker = await TestBroker.start({ alarms: { intervalMs: 2 ** 31 - 1 } });
});
after(async () => {
  broker.broker.core.setBlocked(null);
  await broker.stop();
});

const queueIn = (name: string) => broker.broker.core.vhosts.get("/")?.queues.get(name);

test("a blocked publishing connection gets connection.blocked and is not read until unblocked", async () => {
  const connection = await amqplib.connect(broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("blocked-target", { exclusive: true });
  channel.sendToQueue(queue, Buffer.from("before"));
  await waitFor(() => queueIn(queue)?.messageCount === 1);

  const blocked = new Promise<string>((resolve) => connection.on("blocked", resolve));
  const unblocked = new Promise<void>((resolve) => connection.on("unblocked", resolve));
  broker.broker.core.setBlocked("low on memory");
  assert.equal(await blocked, "low on memory");

  for (const body of ["1", "2", "3"]) channel.sendToQueue(queue, Buffer.from(body));
  // Another connection is served meanwhile, and sees none of the blocked publishes.
  const observer = await amqplib.connect(broker.url);
  const observerChannel = await observer.createChannel();
  await sleep(100);
  assert.equal((await observerChannel.assertQueue("", { exclusive: true })).messageCount, 0);
  assert.equal(queueIn(queue)?.messageCount, 1);

  broker.broker.core.setBlocked(null);
  await unblocked;
  await waitFor(() => queueIn(queue)?.messageCount === 4);
  const bodies: string[] = [];
  for (let i = 0; i < 4; i++)
    bodies.push(((await channel.get(queue, { noAck: true })) || { content: "" }).content.toString());
  assert.deepEqual(bodies, ["before", "1", "2", "3"]);
  await observer.close();
  await connection.close();
});

test("amqp-client is told when the broker blocks and unblocks", async () => {
  const client = new AMQPClient(broker.url);
  const reasons: Array<string | null> = [];
  client.onblocked = (reason) => reasons.push(reason);
  client.onunblocked = () => reasons.push(null);
  await client.connect();
  broker.broker.core.setBlocked("disk alarm");
  await waitFor(() => reasons.length === 1);
  broker.broker.core.setBlocked(null);
  await waitFor(() => reasons.length === 2);
  assert.deepEqual(reasons, ["disk alarm", null]);
  await client.close();
});

test("a connection opened while blocked is told at once", async () => {
  broker.broker.core.setBlocked("low on memory");
  try {
    const client = new AMQPClient(broker.url);
    const reasons: string[] = [];
    client.onblocked = (reason) => reasons.push(reason);
    await client.connect();
    await waitFor(() => reasons.length === 1);
    assert.deepEqual(reasons, ["low on memory"]);
    await client.close();
  } finally {
    broker.broker.core.setBlocked(null);
  }
});
