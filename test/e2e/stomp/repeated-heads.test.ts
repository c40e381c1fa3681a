/**
 * The STOMP hot path keeps what repeats (issue 15 §3): the reader the last
 * head (frame-head.ts), SEND a plan per head (send-cache.ts), MESSAGE a
 * template per subscription (message-head.ts), ACK the last subscription.
 * These tests drive each over real sockets with heads that repeat and then
 * change, check every frame that comes back, and check that a malformed
 * frame after a remembered head gets its exact ERROR and closes only that
 * connection.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, type IMessage } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { RawStompClient, type ReceivedFrame } from "./raw-client.js";
import { assertStompServes, useStompBroker } from "./stomp-broker.js";

const stomp = useStompBroker();

const assertOthersServed = (): Promise<void> => assertStompServes(stomp.port);

const sendFrame = (headers: string, body: string): string =>
  `SEND\n${headers}content-length:${Buffer.byteLength(body)}\n\n${body}\0`;

async function frames(client: RawStompClient, count: number): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  while (out.length < count) out.push(await client.frame());
  return out;
}

test("repeated SEND heads, then changed ones, arrive as MESSAGEs with their own headers; ACKs in a row settle them all", async () => {
  const { client: consumer } = await RawStompClient.login(stomp.port);
  consumer.send("SUBSCRIBE", { destination: "/queue/repeat", id: "s1", ack: "client-individual", receipt: "sub" });
  assert.equal((await consumer.frame()).headers["receipt-id"], "sub");
  const { client: producer } = await RawStompClient.login(stomp.port);
  const same = "destination:/queue/repeat\nx-k:v\\cw\ncontent-type:text/plain\n";
  const bodies = Array.from({ length: 50 }, (_, i) => `m${i}`);
  // One write: the reader sees the same head 50 times in one chunk, then a changed value, a new header, a receipt.
  producer.write(
    bodies.map((b) => sendFrame(same, b)).join("") +
      sendFrame("destination:/queue/repeat\nx-k:other\ncontent-type:text/plain\n", "changed value") +
      sendFrame("destination:/queue/repeat\nx-k:v\\cw\ncontent-type:text/plain\npriority:3\n", "new header") +
      sendFrame(same, "same again") +
      sendFrame(`${same}receipt:r1\n`, "with receipt"),
  );
  assert.equal((await producer.frame()).headers["receipt-id"], "r1");
  const messages = await frames(consumer, 54);
  assert.deepEqual(
    messages.map((m) => m.body.toString()),
    [...bodies, "changed value", "new header", "same again", "with receipt"],
  );
  const ids = new Set<string>();
  for (const [i, m] of messages.entries()) {
    assert.equal(m.command, "MESSAGE");
    assert.equal(m.headers.subscription, "s1");
    assert.equal(m.headers.destination, "/queue/repeat");
    assert.equal(m.headers.redelivered, "false");
    assert.equal(m.headers["content-type"], "text/plain");
    // The raw client does not unescape: STOMP 1.2 escapes ':' as \c on the way out too.
    assert.equal(m.headers["x-k"], i === 50 ? "other" : "v\\cw");
    assert.equal(m.headers.priority, i === 51 ? "3" : undefined);
    assert.match(m.headers["message-id"] as string, /^T_s1@@session-[A-Za-z0-9_-]{22}@@[0-9]+$/);
    assert.equal(m.headers.ack, m.headers["message-id"]);
    assert.equal(m.headers["content-length"], String(m.body.length));
    ids.add(m.headers.ack as string);
  }
  assert.equal(ids.size, 54);
  // All ACKs in one write: heads that differ only in the tag's digits.
  consumer.write([...ids].map((id) => `ACK\nid:${id}\n\n\0`).join("") + "DISCONNECT\nreceipt:bye\n\n\0");
  assert.equal((await consumer.frame()).headers["receipt-id"], "bye");
  await consumer.closedByServer();
  // Unacked deliveries would be back in the queue once the session ended.
  const connection = await amqplib.connect(stomp.broker.url);
  const channel = await connection.createChannel();
  assert.equal((await channel.checkQueue("repeat")).messageCount, 0);
  await connection.close();
  producer.close();
});

test("a frame repeating a remembered head but for one bad escape gets the exact ERROR and closes only that connection", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.write(
    sendFrame("destination:/queue/bad-after\nx-k:ok\nreceipt:1\n", "a") +
      sendFrame("destination:/queue/bad-after\nx-k:ok\nreceipt:1\n", "b"),
  );
  assert.equal((await client.frame()).headers["receipt-id"], "1");
  assert.equal((await client.frame()).headers["receipt-id"], "1");
  client.write(sendFrame("destination:/queue/bad-after\nx-k:o\\t\nreceipt:1\n", "c"));
  const error = await client.frame();
  assert.equal(error.command, "ERROR");
  assert.equal(error.headers.message, "Invalid frame");
  assert.equal(error.body.toString(), "invalid escape sequence in header line 'x-k:o\\t'\n");
  await client.closedByServer();
  await assertOthersServed();
});

test("an ACK id that is not <tag>@@<session>@@<number>, after good ones, gets RabbitMQ's ERROR texts", async () => {
  for (const [bad, message, body] of [
    ["T_s@@session@@12x", "Invalid header", '"ACK" must include a valid "id" header\n'],
    ["T_s@@session@@", "Invalid header", '"ACK" must include a valid "id" header\n'],
    ["T_s@@session@@1@@2", "Invalid header", '"ACK" must include a valid "id" header\n'],
    ["T_s@@@@session@@1", "Invalid header", '"ACK" must include a valid "id" header\n'],
    ["T_other@@session@@1", "Subscription not found", 'Message with id "T_other@@session@@1" has no subscription'],
    ["T_s@@session@@999999", "precondition_failed", "PRECONDITION_FAILED - unknown delivery tag 999999"],
  ] as const) {
    const { client } = await RawStompClient.login(stomp.port);
    client.send("SUBSCRIBE", { destination: "/queue/ack-ids", id: "s", ack: "client-individual" });
    client.write(sendFrame("destination:/queue/ack-ids\n", "1") + sendFrame("destination:/queue/ack-ids\n", "2"));
    const [first, second] = await frames(client, 2);
    client.write(`ACK\nid:${first?.headers.ack}\n\n\0ACK\nid:${second?.headers.ack}\nreceipt:acked\n\n\0`);
    assert.equal((await client.frame()).headers["receipt-id"], "acked");
    client.write(`ACK\nid:${bad}\n\n\0`);
    const error = await client.frame();
    assert.equal(error.command, "ERROR", bad);
    assert.equal(error.headers.message, message, bad);
    assert.equal(error.body.toString(), body, bad);
    client.close();
    await assertOthersServed();
  }
});

test("@stomp/stompjs: repeated headers reach an AMQP consumer; repeated AMQP properties reach a STOMP subscriber", async () => {
  const client = new Client({
    connectHeaders: { login: "guest", passcode: "guest" },
    reconnectDelay: 0,
    webSocketFactory: () => new TCPWrapper("127.0.0.1", stomp.port),
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(frame.headers.message));
    client.activate();
  });
  const connection = await amqplib.connect(stomp.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("to-amqp", { durable: false });
  await channel.assertQueue("to-stomp", { durable: false });
  const fromStomp: amqplib.ConsumeMessage[] = [];
  await channel.consume("to-amqp", (m) => m && fromStomp.push(m), { noAck: true });
  for (let i = 0; i < 30; i++)
    client.publish({
      destination: "/amq/queue/to-amqp",
      headers: { "x-app": "same", "content-type": "application/json", "correlation-id": i < 29 ? "c" : "last" },
      body: `{"i":${i}}`,
    });
  await waitFor(() => fromStomp.length === 30);
  for (const [i, m] of fromStomp.entries()) {
    assert.equal(m.content.toString(), `{"i":${i}}`);
    assert.equal(m.properties.contentType, "application/json");
    assert.equal(m.properties.correlationId, i < 29 ? "c" : "last");
    assert.equal(m.properties.headers?.["x-app"], "same");
  }

  const received: IMessage[] = [];
  client.subscribe("/amq/queue/to-stomp", (m) => received.push(m));
  await new Promise<void>((resolve) => {
    client.watchForReceipt("sub", () => resolve());
    client.publish({ destination: "/queue/stompjs-sync-heads", headers: { receipt: "sub" } });
  });
  for (let i = 0; i < 20; i++) {
    // The same properties each time, but for one message in the middle.
    const other = i === 10;
    channel.sendToQueue("to-stomp", Buffer.from(`b${i}`), {
      contentType: other ? "text/other" : "text/plain",
      headers: other ? { "x-other": 1 } : { "x-h": "v" },
      priority: 2,
    });
  }
  await waitFor(() => received.length === 20);
  for (const [i, m] of received.entries()) {
    assert.equal(m.body, `b${i}`);
    assert.equal(m.headers["content-type"], i === 10 ? "text/other" : "text/plain");
    assert.equal(m.headers["x-h"], i === 10 ? undefined : "v");
    assert.equal(m.headers["x-other"], i === 10 ? "1" : undefined);
    assert.equal(m.headers.priority, "2");
    // As formatDestination names the default exchange (RabbitMQ: /queue/<routing key>).
    assert.equal(m.headers.destination, "/queue/to-stomp");
  }
  await connection.close();
  await client.deactivate();
});
