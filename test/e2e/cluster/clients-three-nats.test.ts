import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { Client, type IMessage } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { type ClusterNode, useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { requireBinary, runProgram, skipWithout, skipWithoutPythonModule } from "../../helpers/binaries.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");
const skipPika = skipWithoutPythonModule("pika", "python3-pika", "the pika test needs it");

/**
 * Issue 10's "done when": three Warren nodes over three NATS servers
 * behave as one broker to amqplib, pika, MQTT.js and stompjs. Each test
 * declares on one node, publishes on a second and consumes on the third.
 * pika: persistent messages with confirms (confirm_delivery raises on a nack).
 */
const PIKA = `
import sys, pika
declare_port, publish_port, consume_port = (int(p) for p in sys.argv[1:4])
def connect(port):
    return pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port))
declarer = connect(declare_port)
declarer.channel().queue_declare("pika-orders", durable=True)
declarer.close()
publisher = connect(publish_port)
channel = publisher.channel()
channel.confirm_delivery()
channel.queue_declare("pika-orders", durable=True)
for i in range(200):
    channel.basic_publish("", "pika-orders", str(i).encode(), pika.BasicProperties(delivery_mode=2), mandatory=True)
publisher.close()
consumer = connect(consume_port)
channel = consumer.channel()
channel.basic_qos(prefetch_count=20)
received = []
for method, properties, body in channel.consume("pika-orders", inactivity_timeout=15):
    if method is None:
        break
    received.append(int(body))
    channel.basic_ack(method.delivery_tag)
    if len(received) == 200:
        break
channel.cancel()
consumer.close()
print("received %d in order: %s" % (len(received), received == list(range(200))))
`;

async function stompClient(node: ClusterNode): Promise<Client> {
  const client = new Client({
    connectHeaders: { login: "guest", passcode: "guest" },
    reconnectDelay: 0,
    webSocketFactory: () => new TCPWrapper("127.0.0.1", node.ports.stomp),
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(frame.headers.message));
    client.activate();
  });
  return client;
}

describe("clients across three Warren nodes over three NATS servers", { skip }, () => {
  const handle = useCluster(3, 3);

  test(
    "pika: declare on one node, confirmed persistent publishes on a second, consume in order on the third",
    { skip: skipPika },
    async () => {
      requireBinary("/usr/bin/python3", "python3-pika");
      const ports = handle.cluster.nodes.map((node) => String(node.ports.amqp));
      const result = await runProgram("/usr/bin/python3", ["-c", PIKA, ...ports]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "received 200 in order: True");
    },
  );
  test("MQTT.js QoS 1 publishes on node 2 reach a stompjs subscriber on node 3 of a queue amqplib declared on node 1", async () => {
    const { cluster } = handle;
    const declarer = await amqplib.connect(cluster.node(0).amqpUrl);
    const channel = await declarer.createChannel();
    await channel.assertQueue("readings", { durable: true });
    await channel.bindQueue("readings", "amq.topic", "sensors.*.temp");
    await declarer.close();

    const consumer = await stompClient(cluster.node(2));
    const received: IMessage[] = [];
    consumer.subscribe("/amq/queue/readings", (message) => received.push(message), { ack: "client-individual" });
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.node(1).ports.mqtt}`, {
      clientId: "three-nats-pub",
      username: "guest",
      password: "guest",
    });
    // The binding reaches node 2 through the replicated definitions: publish until the first one is routed.
    await waitFor(async () => {
      await publisher.publishAsync("sensors/probe/temp", "probe", { qos: 1 });
      return received.length > 0 || null;
    }, 30_000);
    for (let i = 0; i < 50; i++) await publisher.publishAsync(`sensors/s${i}/temp`, String(i), { qos: 1 });
    await waitFor(() => received.filter((m) => m.body !== "probe").length === 50 || null, 30_000);
    const bodies = received.filter((m) => m.body !== "probe");
    assert.deepEqual(
      bodies.map((m) => m.body),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    // As RabbitMQ names a message of amq.topic to a STOMP client.
    assert.equal(bodies[0]?.headers.destination, "/topic/sensors.s0.temp");
    for (const message of received) message.ack();
    await publisher.endAsync();
    await consumer.deactivate();

    // Settled at the owner (node 1): a basic.get there finds the queue empty.
    const checker = await amqplib.connect(cluster.node(0).amqpUrl);
    const check = await checker.createChannel();
    await waitFor(async () => ((await check.checkQueue("readings")).messageCount === 0 ? true : null), 15_000);
    assert.equal(await check.get("readings"), false);
    await checker.close();
  });

  test("stompjs SENDs with receipts on node 1 reach an MQTT.js persistent session on node 3; amqplib on node 2 sees the queue", async () => {
    const { cluster } = handle;
    const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.node(2).ports.mqtt}`, {
      clientId: "three-nats-sub",
      clean: false,
      username: "guest",
      password: "guest",
    });
    await subscriber.subscribeAsync("alerts/#", { qos: 1 });
    const received: string[] = [];
    subscriber.on("message", (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    // The session's queue is durable (clean=false): owned by node 3, known on every node.
    const observer = await amqplib.connect(cluster.node(1).amqpUrl);
    const queue = "mqtt-subscription-three-nats-subqos1";
    await waitFor(async () => {
      const probe = await observer.createChannel();
      const found = await probe.checkQueue(queue).then(
        () => true,
        () => null,
      );
      if (found) await probe.close();
      return found;
    }, 30_000);
    const producer = await stompClient(cluster.node(0));
    for (let i = 0; i < 20; i++)
      await new Promise<void>((resolve) => {
        producer.watchForReceipt(`r${i}`, () => resolve());
        producer.publish({
          destination: "/topic/alerts.cluster",
          body: `alert ${i}`,
          headers: { receipt: `r${i}`, persistent: "true" },
        });
      });
    await waitFor(() => received.length === 20 || null, 30_000);
    assert.deepEqual(
      received,
      Array.from({ length: 20 }, (_, i) => `alerts/cluster=alert ${i}`),
    );
    await producer.deactivate();
    await subscriber.endAsync();
    await observer.close();
  });
});
