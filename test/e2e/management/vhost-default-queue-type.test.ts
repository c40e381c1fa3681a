/**
 * A vhost's default queue type applied on queue.declare. Every expectation
 * is what RabbitMQ 3.10.8 answered for the same steps (vhost created with
 * PUT /api/vhosts/qq {"defaultqueuetype":"quorum"}, declares over amqplib,
 * queues read back with GET /api/queues/qq/<name>).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const VHOST = "dqt-quorum";
const warren = useBroker({}, async () => {
  assert.equal((await api.put(`/api/vhosts/${VHOST}`, { defaultqueuetype: "quorum" })).status, 201);
  const grant = await api.put(`/api/permissions/${VHOST}/guest`, { configure: ".*", write: ".*", read: ".*" });
  assert.ok(grant.status === 201 || grant.status === 204, `permissions answered ${grant.status}`);
});
const api = Api.lazy(warren);

async function connect(): Promise<amqplib.ChannelModel> {
  const connection = await amqplib.connect(warren.broker.urlFor("guest", "guest", VHOST));
  connection.on("error", () => {}); // channel-level failures are asserted on the promises
  return connection;
}

/** type, arguments, durable, auto_delete, exclusive of a queue as the management API shows it. */
async function shown(name: string): Promise<Item> {
  const q = await api.json<Item>(`/api/queues/${VHOST}/${encodeURIComponent(name)}`);
  return {
    type: q["type"],
    arguments: q["arguments"],
    durable: q["durable"],
    auto_delete: q["auto_delete"],
    exclusive: q["exclusive"],
  };
}

test("a durable queue declared without x-queue-type becomes a quorum queue (x-queue-type: quorum)", async () => {
  const connection = await connect();
  const channel = await connection.createChannel();
  await channel.assertQueue("dqt-plain", { durable: true });
  assert.deepEqual(await shown("dqt-plain"), {
    type: "quorum",
    arguments: { "x-queue-type": "quorum" },
    durable: true,
    auto_delete: false,
    exclusive: false,
  });
  // A redeclare without the argument is equivalent: the default is added before the check.
  await channel.assertQueue("dqt-plain", { durable: true });
  await connection.close();
});

test("the queue has quorum semantics: deliveries carry x-delivery-count, 1 after a requeue", async () => {
  const connection = await connect();
  const channel = await connection.createChannel();
  await channel.assertQueue("dqt-semantics", { durable: true });
  channel.sendToQueue("dqt-semantics", Buffer.from("once"));
  const first = await waitForGet(channel, "dqt-semantics");
  // RabbitMQ 3.10 quorum queues add x-delivery-count from the first delivery (basic.get shows 0); classic queues never do.
  assert.equal(first.properties.headers?.["x-delivery-count"], 0);
  channel.nack(first, false, true);
  const again = await waitForGet(channel, "dqt-semantics");
  assert.equal(again.properties.headers?.["x-delivery-count"], 1);
  channel.ack(again);
  await connection.close();
});

test("x-max-priority is refused as for an explicit quorum queue, and the broker keeps serving", async () => {
  const connection = await connect();
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  await assert.rejects(channel.assertQueue("dqt-prio", { durable: true, arguments: { "x-max-priority": 5 } }), {
    message:
      /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'dqt-prio' in vhost 'dqt-quorum' of queue type rabbit_quorum_queue"/,
  });
  const other = await connection.createChannel();
  await other.assertQueue("dqt-after-error", { durable: true });
  await connection.close();
});

test("exclusive, non-durable and auto-delete queues stay classic with their arguments untouched", async () => {
  const connection = await connect();
  const channel = await connection.createChannel();
  await channel.assertQueue("dqt-nondurable", { durable: false });
  await channel.assertQueue("dqt-autodelete", { durable: true, autoDelete: true });
  await channel.assertQueue("dqt-exclusive", { durable: false, exclusive: true });
  const serverNamed = await channel.assertQueue("", { exclusive: true });
  await channel.assertQueue("dqt-nondurable-prio", { durable: false, arguments: { "x-max-priority": 5 } });
  for (const name of ["dqt-nondurable", "dqt-autodelete", "dqt-exclusive", serverNamed.queue]) {
    const q = await shown(name);
    assert.equal(q["type"], "classic", name);
    assert.deepEqual(q["arguments"], {}, name);
  }
  assert.deepEqual((await shown("dqt-nondurable-prio"))["arguments"], { "x-max-priority": 5 });
  await connection.close();
});

test("an explicit x-queue-type wins, and redeclaring that classic queue without it fails as in RabbitMQ", async () => {
  const connection = await connect();
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  await channel.assertQueue("dqt-classic", { durable: true, arguments: { "x-queue-type": "classic" } });
  assert.equal((await shown("dqt-classic"))["type"], "classic");
  await assert.rejects(channel.assertQueue("dqt-classic", { durable: true }), {
    message:
      /PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'dqt-classic' in vhost 'dqt-quorum': received 'quorum' but current is 'classic'/,
  });
  await connection.close();
});

test("PUT /api/queues applies the default too; a definitions import does not", async () => {
  assert.equal((await api.put(`/api/queues/${VHOST}/dqt-http`, { durable: true })).status, 201);
  assert.deepEqual((await shown("dqt-http"))["arguments"], { "x-queue-type": "quorum" });
  const imported = await api.post("/api/definitions", {
    queues: [{ name: "dqt-imported", vhost: VHOST, durable: true, auto_delete: false, arguments: {} }],
  });
  assert.ok(imported.status === 201 || imported.status === 204, `import answered ${imported.status}`);
  const q = await shown("dqt-imported");
  assert.equal(q["type"], "classic");
  assert.deepEqual(q["arguments"], {});
});

test("a vhost without a default queue type leaves a durable queue classic", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("dqt-default-vhost", { durable: true });
  const q = await api.json<Item>("/api/queues/%2F/dqt-default-vhost");
  assert.equal(q["type"], "classic");
  assert.deepEqual(q["arguments"], {});
  await channel.deleteQueue("dqt-default-vhost");
  await connection.close();
});

async function waitForGet(channel: amqplib.Channel, queue: string): Promise<amqplib.GetMessage> {
  for (;;) {
    const message = await channel.get(queue);
    if (message !== false) return message;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
