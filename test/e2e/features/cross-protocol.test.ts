import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../helpers/broker.js";
import { RawStompClient } from "../stomp/raw-client.js";
import { STOMP_BROKER_OPTIONS, stompPortOf } from "../stomp/stomp-broker.js";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel(STOMP_BROKER_OPTIONS);
const stompPort = (): number => stompPortOf(amqp.broker);

test("a STOMP NACK with requeue:false dead-letters the message; an AMQP client sees x-death", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("xp.dlq", { exclusive: true });
  await amqp.channel.assertQueue("xp.src", {
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq },
  });
  const { client } = await RawStompClient.login(stompPort());
  client.send("SUBSCRIBE", { id: "s1", destination: "/amq/queue/xp.src", ack: "client-individual" });
  amqp.channel.sendToQueue("xp.src", Buffer.from("refused over STOMP"));
  const message = await client.frame();
  assert.equal(message.command, "MESSAGE");
  client.send("NACK", { id: message.headers["ack"] as string, requeue: "false" });
  const dead = await waitFor(async () => (await amqp.channel.get(dlq, { noAck: true })) || null);
  assert.equal(dead.content.toString(), "refused over STOMP");
  const death = (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0];
  assert.equal(death?.["reason"], "rejected");
  assert.equal(death?.["queue"], "xp.src");
  client.close();
  await amqp.channel.deleteQueue("xp.src");
});

test("a STOMP subscriber to a priority queue with a TTL gets the highest priority first and never an expired message", async () => {
  await amqp.channel.assertQueue("xp.prio", { arguments: { "x-max-priority": 9 } });
  amqp.channel.sendToQueue("xp.prio", Buffer.from("expired"), { priority: 9, expiration: "1" });
  amqp.channel.sendToQueue("xp.prio", Buffer.from("low"), { priority: 1 });
  amqp.channel.sendToQueue("xp.prio", Buffer.from("high"), { priority: 8 });
  await waitFor(async () => (await amqp.channel.checkQueue("xp.prio")).messageCount === 2);
  const { client } = await RawStompClient.login(stompPort());
  client.send("SUBSCRIBE", { id: "s1", destination: "/amq/queue/xp.prio", ack: "auto" });
  const bodies = [(await client.frame()).body.toString(), (await client.frame()).body.toString()];
  assert.deepEqual(bodies, ["high", "low"]);
  client.close();
  await amqp.channel.deleteQueue("xp.prio");
});
