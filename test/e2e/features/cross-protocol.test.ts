import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { waitFor, type TestBroker } from "../../helpers/broker.js";
import { RawStompClient } from "../stomp/raw-client.js";
import { startStompBroker } from "../stomp/stomp-broker.js";

let broker: TestBroker;
let stompPort: number;
let connection: ChannelModel;
let channel: Channel;
before(async () => {
  ({ broker, port: stompPort } = await startStompBroker());
  connection = await amqplib.connect(broker.url);
  channel = await connection.createChannel();
});
after(async () => {
  await connection.close();
  await broker.stop();
});

test("a STOMP NACK with requeue:false dead-letters the message; an AMQP client sees x-death", async () => {
  const { queue: dlq } = await channel.assertQueue("xp.dlq", { exclusive: true });
  await channel.assertQueue("xp.src", { arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq } });
  const { client } = await RawStompClient.login(stompPort);
  client.send("SUBSCRIBE", { id: "s1", destination: "/amq/queue/xp.src", ack: "client-individual" });
  channel.sendToQueue("xp.src", Buffer.from("refused over STOMP"));
  const message = await client.frame();
  assert.equal(message.command, "MESSAGE");
  client.send("NACK", { id: message.headers["ack"] as string, requeue: "false" });
  const dead = await waitFor(async () => (await channel.get(dlq, { noAck: true })) || null);
  assert.equal(dead.content.toString(), "refused over STOMP");
  const death = (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0];
  assert.equal(death?.["reason"], "rejected");
  assert.equal(death?.["queue"], "xp.src");
  client.close();
  await channel.deleteQueue("xp.src");
});

test("a STOMP subscriber to a priority queue with a TTL gets the highest priority first and never an expired message", async () => {
  await channel.assertQueue("xp.prio", { arguments: { "x-max-priority": 9 } });
  channel.sendToQueue("xp.prio", Buffer.from("expired"), { priority: 9, expiration: "1" });
  channel.sendToQueue("xp.prio", Buffer.from("low"), { priority: 1 });
  channel.sendToQueue("xp.prio", Buffer.from("high"), { priority: 8 });
  await waitFor(async () => (await channel.checkQueue("xp.prio")).messageCount === 2);
  const { client } = await RawStompClient.login(stompPort);
  client.send("SUBSCRIBE", { id: "s1", destination: "/amq/queue/xp.prio", ack: "auto" });
  const bodies = [(await client.frame()).body.toString(), (await client.frame()).body.toString()];
  assert.deepEqual(bodies, ["high", "low"]);
  client.close();
  await channel.deleteQueue("xp.prio");
});
