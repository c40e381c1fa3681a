import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import * as C from "../../../src/amqp/codec/index.js";
import { REPLY } from "../../../src/amqp/reply-codes.js";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";
import { waitFor } from "../../helpers/broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { SyncSwitch, takeWriteFailureLogs } from "../../helpers/failing-sync.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { RawMqttClient } from "../mqtt/raw-client.js";
import { RawStompClient } from "../stomp/raw-client.js";

/**
 * DESIGN §4 / issue 11: when the message store cannot make a write durable,
 * each protocol refuses what it could not store (nack, no commit-ok, no
 * PUBACK, ERROR), the broker keeps serving, and what was confirmed before
 * and after the failure is still there after a restart on the same dir.
 * The failure is a real file store whose fdatasync fails (SyncSwitch).
 */
const dataDirs = useDataDirs("warren-sync-failure");

async function runWithFailingSync(
  dir: string,
  sync: SyncSwitch,
  body: (broker: TestBroker) => Promise<void>,
): Promise<void> {
  await withBrokerOn(
    dir,
    async (broker) => {
      await body(broker);
      sync.failing = false;
      takeWriteFailureLogs(broker);
    },
    { segmentLog: { sync: sync.sync } },
  );
}

/** The bodies a restarted broker on `dir` holds in `queue`. */
async function recovered(dir: string, queue: string): Promise<string[]> {
  return withBrokerOn(dir, (broker) => drainQueueAt(broker.url, queue));
}

function assertIncludes(actual: string[], expected: string[]): void {
  for (const body of expected)
    assert.ok(actual.includes(body), `'${body}' (confirmed) is in ${JSON.stringify(actual)}`);
}

test("AMQP confirms: a publish whose fsync failed is nacked; confirmed messages before and after it survive a restart", async () => {
  const dir = await dataDirs.fresh("amqp-confirm");
  const sync = new SyncSwitch();
  await runWithFailingSync(dir, sync, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("confirmed", { durable: true });
    const publish = (body: string): Promise<"ack" | "nack"> =>
      new Promise((resolve) =>
        channel.sendToQueue("confirmed", Buffer.from(body), { persistent: true }, (error) =>
          resolve(error ? "nack" : "ack"),
        ),
      );
    assert.deepEqual(await Promise.all(["a1", "a2", "a3"].map(publish)), ["ack", "ack", "ack"]);
    sync.failing = true;
    assert.equal(await publish("refused"), "nack");
    assert.ok(sync.failures > 0);
    sync.failing = false;
    // the same channel and connection go on: the broker refused one publish, nothing else
    assert.deepEqual(await Promise.all(["b1", "b2"].map(publish)), ["ack", "ack"]);
    await connection.close();
  });
  assertIncludes(await recovered(dir, "confirmed"), ["a1", "a2", "a3", "b1", "b2"]);
});

test("AMQP tx.commit whose fsync failed gets no commit-ok but 406 'partial tx completion' on tx.commit; other channels carry on", async () => {
  const dir = await dataDirs.fresh("amqp-tx");
  const sync = new SyncSwitch();
  await runWithFailingSync(dir, sync, async (broker) => {
    const client = await RawAmqp.connect(broker.port);
    await client.handshake();
    await client.openChannel(1);
    await client.openChannel(2);
    client.send((w) =>
      C.writeQueueDeclare(w, 1, {
        reserved1: 0,
        queue: "tx-q",
        passive: false,
        durable: true,
        exclusive: false,
        autoDelete: false,
        noWait: false,
        arguments: {},
      }),
    );
    await client.expectMethod(C.QUEUE_DECLARE_OK);
    client.send((w) => C.writeTxSelect(w, 1, {}));
    await client.expectMethod(C.TX_SELECT_OK);
    const publish = (body: string): void =>
      client.send((w) => {
        C.writeBasicPublish(w, 1, {
          reserved1: 0,
          exchange: "",
          routingKey: "tx-q",
          mandatory: false,
          immediate: false,
        });
        C.writeContentHeaderFrameWithProperties(w, 1, 60, body.length, { deliveryMode: 2 });
        C.writeBodyFrames(w, 1, Buffer.from(body), 131072);
      });
    publish("committed");
    client.send((w) => C.writeTxCommit(w, 1, {}));
    await client.expectMethod(C.TX_COMMIT_OK);
    sync.failing = true;
    publish("refused");
    client.send((w) => C.writeTxCommit(w, 1, {}));
    // The next method on the wire is the channel error, not a commit-ok.
    const close = await client.expectMethod<C.ChannelClose>(C.CHANNEL_CLOSE);
    assert.deepEqual(
      { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
      {
        code: REPLY.PRECONDITION_FAILED,
        text: "PRECONDITION_FAILED - partial tx completion",
        classId: 90,
        methodId: 20,
      },
    );
    client.closeChannelOk(1);
    sync.failing = false;
    // channel 2 of the same connection still works
    client.send((w) =>
      C.writeQueueDeclare(w, 2, {
        reserved1: 0,
        queue: "tx-q",
        passive: true,
        durable: true,
        exclusive: false,
        autoDelete: false,
        noWait: false,
        arguments: {},
      }),
    );
    await client.expectMethod(C.QUEUE_DECLARE_OK);
    client.close();
    await client.expectMethod(C.CONNECTION_CLOSE_OK);
    client.destroy();
  });
  assertIncludes(await recovered(dir, "tx-q"), ["committed"]);
});

test("MQTT QoS 1: a PUBLISH whose fsync failed gets no PUBACK; PUBACKed messages survive a restart", async () => {
  const dir = await dataDirs.fresh("mqtt");
  const sync = new SyncSwitch();
  let queueName = "";
  await withBrokerOn(
    dir,
    async (broker) => {
      const port = broker.broker.ports.mqtt as number;
      // A persistent session's QoS 1 subscription: a durable queue, so QoS 1 publishes are logged.
      const subscriber = await RawMqttClient.open(port);
      await subscriber.connect("sync-sub", { clean: false });
      subscriber.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "sync/t", qos: 1 }] });
      await subscriber.next("suback");
      subscriber.send({ cmd: "disconnect" });
      await subscriber.waitClosed();
      const queue = [...broker.broker.core.vhosts.get("/")!.queues.values()].find((q) =>
        q.name.startsWith("mqtt-subscription-sync-sub"),
      );
      assert.ok(queue?.durable, "the subscription queue is durable");
      queueName = queue.name;

      const publisher = await RawMqttClient.open(port);
      await publisher.connect("sync-pub");
      const publish = (messageId: number, body: string): void =>
        publisher.send({
          cmd: "publish",
          topic: "sync/t",
          qos: 1,
          messageId,
          payload: Buffer.from(body),
          retain: false,
          dup: false,
        });
      publish(1, "before");
      assert.equal((await publisher.next("puback")).messageId, 1);
      sync.failing = true;
      publish(2, "refused");
      await waitFor(() => sync.failures > 0);
      sync.failing = false;
      publish(3, "after");
      // Acks leave in order [MQTT-4.6.0-2]: once 3's is here, 2's verdict was made, and it was no PUBACK.
      assert.equal((await publisher.next("puback")).messageId, 3);
      assert.equal(publisher.count("puback"), 0);
      publisher.send({ cmd: "disconnect" });
      await publisher.waitClosed();
      takeWriteFailureLogs(broker);
    },
    { segmentLog: { sync: sync.sync } },
  );
  assertIncludes(await recovered(dir, queueName), ["before", "after"]);
});

test("STOMP: a receipt whose fsync failed is an ERROR, never a RECEIPT; receipted messages survive a restart", async () => {
  const dir = await dataDirs.fresh("stomp");
  const sync = new SyncSwitch();
  await withBrokerOn(
    dir,
    async (broker) => {
      const port = broker.broker.ports.stomp as number;
      const { client } = await RawStompClient.login(port);
      client.send("SEND", { destination: "/queue/stomp-sync", persistent: "true", receipt: "r1" }, "before");
      assert.deepEqual((await client.frame()).headers["receipt-id"], "r1");
      sync.failing = true;
      client.send("SEND", { destination: "/queue/stomp-sync", persistent: "true", receipt: "r2" }, "refused");
      const error = await client.frame();
      assert.equal(error.command, "ERROR");
      assert.equal(error.headers.message, "Internal error");
      assert.equal(error.body.toString(), "the message store could not write to disk\n");
      await client.closedByServer();
      sync.failing = false;
      // another client is served, and its receipt is a real one again
      const { client: next } = await RawStompClient.login(port);
      next.send("SEND", { destination: "/queue/stomp-sync", persistent: "true", receipt: "r3" }, "after");
      assert.deepEqual((await next.frame()).headers["receipt-id"], "r3");
      next.close();
      takeWriteFailureLogs(broker);
    },
    { segmentLog: { sync: sync.sync } },
  );
  assertIncludes(await recovered(dir, "stomp-sync"), ["before", "after"]);
});
