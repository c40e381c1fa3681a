import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import amqplib, { type ConsumeMessage } from "amqplib";
import { Client, type IMessage } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import mqtt from "mqtt";
import { type TestBroker, waitFor } from "../../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { skipWithout } from "../../helpers/binaries.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");

/**
 * Two Warren nodes in this process over one NATS server (replicas 1): a
 * durable queue is owned by the node that declared it first; the other
 * node forwards publishes to it and serves its consumers from it.
 */
describe("cluster routing: declare on one node, use from another", { skip }, () => {
  const nodes = useTwoClusterNodes();
  let a: TestBroker;
  let b: TestBroker;
  before(() => ({ a, b } = nodes));

  /** Declares a durable queue on A (A owns it); B learns it from the replicated definitions. */
  async function declareOnBoth(name: string): Promise<void> {
    const connection = await amqplib.connect(a.url);
    const channel = await connection.createChannel();
    await channel.assertQueue(name, { durable: true });
    await connection.close();
    for (const node of [a, b])
      await waitFor(() => node.broker.core.vhosts.get("/")?.queues.get(name)?.ownerNode === "warren@a");
  }

  test("a persistent publish on B to a queue owned by A is confirmed and consumed on A", async () => {
    await declareOnBoth("fwd");
    const pub = await amqplib.connect(b.url);
    const confirm = await pub.createConfirmChannel();
    for (let i = 0; i < 100; i++) confirm.sendToQueue("fwd", Buffer.from(`m${i}`), { persistent: true });
    await confirm.waitForConfirms();
    const owner = a.broker.core.vhosts.get("/")?.queues.get("fwd");
    assert.equal(owner?.messageCount, 100);
    const sub = await amqplib.connect(a.url);
    const channel = await sub.createChannel();
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void channel.consume("fwd", (msg) => {
        if (msg === null) return;
        got.push(msg.content.toString());
        channel.ack(msg);
        if (got.length === 100) resolve();
      });
    });
    assert.deepEqual(
      got,
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    await pub.close();
    await sub.close();
  });

  test("a consumer on B of a queue owned by A gets deliveries, acks, requeues (redelivered) and its prefetch across nodes", async () => {
    await declareOnBoth("remote-consume");
    const sub = await amqplib.connect(b.url);
    const channel = await sub.createChannel();
    await channel.prefetch(2);
    const received: ConsumeMessage[] = [];
    await channel.consume("remote-consume", (msg) => {
      if (msg !== null) received.push(msg);
    });
    const owner = a.broker.core.vhosts.get("/")?.queues.get("remote-consume");
    await waitFor(() => owner?.consumerCount === 1);
    const pub = await amqplib.connect(a.url);
    const pubChannel = await pub.createConfirmChannel();
    for (let i = 0; i < 5; i++) pubChannel.sendToQueue("remote-consume", Buffer.from(`r${i}`), { persistent: true });
    await pubChannel.waitForConfirms();
    await waitFor(() => received.length === 2);
    // Prefetch 2 holds across nodes: the owner keeps the rest ready.
    await waitFor(() => owner?.messageCount === 3 && owner.unackedCount === 2);
    assert.deepEqual(
      received.map((m) => [m.content.toString(), m.fields.redelivered]),
      [
        ["r0", false],
        ["r1", false],
      ],
    );
    channel.nack(received[0] as ConsumeMessage, false, true);
    channel.ack(received[1] as ConsumeMessage);
    await waitFor(() => received.length === 4);
    assert.deepEqual(
      received.slice(2).map((m) => [m.content.toString(), m.fields.redelivered]),
      [
        ["r0", true],
        ["r2", false],
      ],
    );
    channel.ack(received[2] as ConsumeMessage);
    channel.ack(received[3] as ConsumeMessage);
    await waitFor(() => received.length === 6);
    channel.ack(received[4] as ConsumeMessage);
    channel.ack(received[5] as ConsumeMessage);
    await waitFor(() => owner?.messageCount === 0 && owner.unackedCount === 0);
    assert.deepEqual(
      received.slice(4).map((m) => m.content.toString()),
      ["r3", "r4"],
    );
    await sub.close();
    await pub.close();
  });

  test("closing the consumer's channel on B gives its unacked deliveries back to the owner", async () => {
    await declareOnBoth("remote-close");
    const pub = await amqplib.connect(a.url);
    const pubChannel = await pub.createConfirmChannel();
    for (let i = 0; i < 3; i++) pubChannel.sendToQueue("remote-close", Buffer.from(`c${i}`), { persistent: true });
    await pubChannel.waitForConfirms();
    const sub = await amqplib.connect(b.url);
    const channel = await sub.createChannel();
    let count = 0;
    await channel.consume("remote-close", () => void count++);
    await waitFor(() => count === 3);
    const owner = a.broker.core.vhosts.get("/")?.queues.get("remote-close");
    assert.equal(owner?.unackedCount, 3);
    await channel.close();
    await waitFor(() => owner?.messageCount === 3 && owner.unackedCount === 0 && owner.consumerCount === 0);
    const again = await pubChannel.get("remote-close");
    assert.ok(again !== false);
    assert.equal(again.content.toString(), "c0");
    assert.equal(again.fields.redelivered, true);
    pubChannel.ack(again);
    await sub.close();
    await pub.close();
  });

  test("the management API on either node shows the owner as the queue's node", async () => {
    await declareOnBoth("shown");
    for (const node of [a, b]) {
      const response = await fetch(`${node.broker.urls.http}/api/queues/%2F/shown`, {
        headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { node: string };
      assert.equal(body.node, "warren@a");
    }
  });

  test("STOMP: a SEND with a receipt on A reaches a /queue/ subscriber on B, and its ACK settles at the owner", async () => {
    const connect = async (node: TestBroker): Promise<Client> => {
      const client = new Client({
        connectHeaders: { login: "guest", passcode: "guest" },
        reconnectDelay: 0,
        webSocketFactory: () => new TCPWrapper("127.0.0.1", node.broker.ports.stomp as number),
      });
      await new Promise<void>((resolve, reject) => {
        client.onConnect = () => resolve();
        client.onStompError = (frame) => reject(new Error(frame.headers.message));
        client.activate();
      });
      return client;
    };
    const consumer = await connect(b);
    const received: IMessage[] = [];
    consumer.subscribe("/queue/stomp-x", (message) => received.push(message), {
      ack: "client-individual",
      durable: "true",
      "auto-delete": "false",
    });
    // B declared the durable queue and owns it; A learns it from the definitions.
    await waitFor(() => a.broker.core.vhosts.get("/")?.queues.get("stomp-x")?.ownerNode === "warren@b");
    const producer = await connect(a);
    await new Promise<void>((resolve) => {
      producer.watchForReceipt("sent", () => resolve());
      producer.publish({
        destination: "/queue/stomp-x",
        body: "over two nodes",
        headers: { receipt: "sent", persistent: "true" },
      });
    });
    await waitFor(() => received.length === 1);
    assert.equal(received[0]?.body, "over two nodes");
    const owner = b.broker.core.vhosts.get("/")?.queues.get("stomp-x");
    assert.equal(owner?.unackedCount, 1);
    received[0]?.ack();
    await waitFor(() => owner?.unackedCount === 0 && owner.messageCount === 0);
    await producer.deactivate();
    await consumer.deactivate();
  });

  test("MQTT: a persistent session's subscription on B gets QoS 1 publishes made on A", async () => {
    const subscriber = await mqtt.connectAsync(b.broker.urls.mqtt as string, {
      clientId: "cluster-sub",
      clean: false,
      username: "guest",
      password: "guest",
    });
    await subscriber.subscribeAsync("sensors/+/temp", { qos: 1 });
    const received: string[] = [];
    subscriber.on("message", (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    const queueName = "mqtt-subscription-cluster-subqos1";
    await waitFor(() => a.broker.core.vhosts.get("/")?.queues.get(queueName)?.ownerNode === "warren@b");
    const publisher = await mqtt.connectAsync(a.broker.urls.mqtt as string, {
      clientId: "cluster-pub",
      username: "guest",
      password: "guest",
    });
    await publisher.publishAsync("sensors/kitchen/temp", "21.5", { qos: 1 });
    await waitFor(() => received.length === 1);
    assert.deepEqual(received, ["sensors/kitchen/temp=21.5"]);
    await publisher.endAsync();
    await subscriber.endAsync();
  });
});
