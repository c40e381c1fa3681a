import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient, AMQPSession } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { nextError, openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

const REPLY_TO = "amq.rabbitmq.reply-to";

test("an RPC over amq.rabbitmq.reply-to gets its reply with the correlation id (amqplib)", async () => {
  const serverConnection = await amqplib.connect(warren.broker.url);
  const server = await serverConnection.createChannel();
  await server.assertQueue("rpc-requests", { exclusive: true });
  const seenReplyTo: string[] = [];
  await server.consume("rpc-requests", (request) => {
    if (!request) return;
    seenReplyTo.push(request.properties.replyTo as string);
    const n = Number(request.content.toString());
    server.sendToQueue(request.properties.replyTo as string, Buffer.from(String(n * n)), {
      correlationId: request.properties.correlationId as string,
    });
    server.ack(request);
  });

  const clientConnection = await amqplib.connect(warren.broker.url);
  const client = await clientConnection.createChannel();
  const replies: Array<[string, string]> = [];
  await client.consume(
    REPLY_TO,
    (reply) => reply && replies.push([reply.properties.correlationId as string, reply.content.toString()]),
    {
      noAck: true,
    },
  );
  client.sendToQueue("rpc-requests", Buffer.from("7"), { replyTo: REPLY_TO, correlationId: "call-1" });
  client.sendToQueue("rpc-requests", Buffer.from("9"), { replyTo: REPLY_TO, correlationId: "call-2" });
  await waitFor(() => replies.length === 2);
  assert.deepEqual(replies, [
    ["call-1", "49"],
    ["call-2", "81"],
  ]);
  // The server saw the rewritten address, not the pseudo-queue's name.
  assert.equal(seenReplyTo.length, 2);
  for (const replyTo of seenReplyTo) assert.match(replyTo, /^amq\.rabbitmq\.reply-to\.[A-Za-z0-9_-]+$/);
  await clientConnection.close();
  await serverConnection.close();
});

test("amqp-client's RPC client and server work through direct reply-to", async () => {
  // Sessions reconnect by themselves, so they are stopped whatever happens (or the test process would hang).
  const serverSession = await AMQPSession.connect(warren.broker.url);
  const clientSession = await AMQPSession.connect(warren.broker.url);
  try {
    const requests = await serverSession.queue("rpc-upper", { durable: false, autoDelete: false });
    await serverSession.rpcServer("rpc-upper", (message) => (message.bodyToString() ?? "").toUpperCase());
    const rpcClient = await clientSession.rpcClient();
    const replies = await Promise.all(
      ["a", "bc", "def"].map((body) => rpcClient.call("rpc-upper", body, { timeout: 5000 })),
    );
    assert.deepEqual(
      replies.map((reply) => reply.bodyToString()),
      ["A", "BC", "DEF"],
    );
    await rpcClient.close();
    await requests.delete();
  } finally {
    await clientSession.stop();
    await serverSession.stop();
  }
});

test("consuming amq.rabbitmq.reply-to with acks is 406", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await rejectsWithClose(
    channel.consume(REPLY_TO, () => {}, { noAck: false }),
    406,
    "PRECONDITION_FAILED - reply consumer cannot acknowledge",
  );
  await connection.close();
  await warren.broker.assertHealthy();
});

test("publishing with reply-to amq.rabbitmq.reply-to without consuming it is 406", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  const closed = nextError(channel);
  channel.sendToQueue("anywhere", Buffer.from("x"), { replyTo: REPLY_TO });
  assert.deepEqual(await closed, { code: 406, text: "PRECONDITION_FAILED - fast reply consumer does not exist" });

  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const ch = await client.channel();
  await ch.basicPublish("", "anywhere", "x", { replyTo: REPLY_TO });
  await rejectsWithClose(
    ch.queueDeclare("", { exclusive: true }),
    406,
    "PRECONDITION_FAILED - fast reply consumer does not exist",
  );
  await client.close();
  await connection.close();
  await warren.broker.assertHealthy();
});

test("declaring amq.rabbitmq.reply-to, passively or not, answers 0 messages and 1 consumer as RabbitMQ", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  assert.deepEqual(await channel.checkQueue(REPLY_TO), { queue: REPLY_TO, messageCount: 0, consumerCount: 1 });
  assert.deepEqual(await channel.assertQueue(REPLY_TO), { queue: REPLY_TO, messageCount: 0, consumerCount: 1 });
  // A rewritten address exists while its reply consumer does.
  await channel.consume(REPLY_TO, () => {}, { noAck: true });
  const { queue } = await channel.assertQueue("", { exclusive: true });
  channel.sendToQueue(queue, Buffer.from("request"), { replyTo: REPLY_TO });
  const request = await waitFor(async () => (await channel.get(queue, { noAck: true })) || null);
  const address = request.properties.replyTo as string;
  assert.deepEqual(await channel.checkQueue(address), { queue: address, messageCount: 0, consumerCount: 1 });
  await rejectsWithClose(
    channel.checkQueue(`${REPLY_TO}.bogus`),
    404,
    "NOT_FOUND - no queue 'amq.rabbitmq.reply-to.bogus' in vhost '/'",
  );
  await connection.close();
});

test("a reply to an address with no consumer is unroutable: mandatory returns it 312 NO_ROUTE", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const returned: Array<[number, string]> = [];
  channel.onReturn = (message) => void returned.push([message.replyCode ?? 0, message.replyText ?? ""]);
  await channel.basicPublish("", `${REPLY_TO}.bogus`, "late reply", {}, true);
  await waitFor(() => returned.length === 1);
  assert.deepEqual(returned, [[312, "NO_ROUTE"]]);
  await client.close();
});
