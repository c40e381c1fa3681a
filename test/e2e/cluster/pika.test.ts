import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { requireBinary, runProgram, skipWithout, skipWithoutPythonModule } from "../../helpers/binaries.js";

const skip =
  skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server") ||
  skipWithoutPythonModule("pika", "python3-pika", "the pika test needs it");

/**
 * Issue 10's "behave as one broker to pika": pika declares a durable queue
 * on one node, publishes persistent messages with confirms on a second
 * (confirm_delivery raises on a nack), and consumes them on the third.
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

describe("pika across a cluster", { skip }, () => {
  const handle = useCluster(1, 3);

  test("declare on one node, confirmed persistent publishes on a second, consume in order on the third", async () => {
    requireBinary("/usr/bin/python3", "python3-pika");
    const ports = handle.cluster.nodes.map((node) => String(node.ports.amqp));
    const result = await runProgram("/usr/bin/python3", ["-c", PIKA, ...ports]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "received 200 in order: True");
  });
});
