import assert from "node:assert/strict";
import { fdatasync } from "node:fs";
import { test } from "node:test";
import mqtt from "mqtt";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { SyncSwitch, takeWriteFailureLogs } from "../../helpers/failing-sync.js";
import { RawMqttClient } from "./raw-client.js";

/**
 * Our Receive Maximum counts QoS 1 PUBLISHes not yet PUBACKed (the PUBACK
 * waits for the disk) as well as QoS 2 ones not yet PUBCOMPed
 * [MQTT-3.3.4-9]; one more is DISCONNECT 0x93. The store's fdatasync is held
 * back by the test (a real file store, its sync delayed), so "not yet
 * PUBACKed" does not depend on timing.
 */
const dataDirs = useDataDirs("warren-mqtt-receive-max");
const RECEIVE_MAXIMUM = 2;

/** The message log's fdatasync, held while `holding` until release(). */
class HeldSync {
  holding = false;
  private readonly held: Array<() => void> = [];
  readonly sync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
    if (this.holding) this.held.push(() => fdatasync(fd, callback));
    else fdatasync(fd, callback);
  };
  get waiting(): number {
    return this.held.length;
  }
  release(): void {
    this.holding = false;
    for (const run of this.held.splice(0)) run();
  }
}

type Sync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

/** A broker on a fresh data dir with our Receive Maximum at 2 and the message log's sync given; stopped (and checked) after `body`. */
async function withBroker(name: string, sync: Sync, body: (broker: TestBroker) => Promise<void>): Promise<void> {
  const dir = await dataDirs.fresh(name);
  const broker = await TestBroker.start({
    storage: { dir, segmentLog: { sync } },
    mqtt: { receiveMaximum: RECEIVE_MAXIMUM },
  });
  try {
    await body(broker);
  } finally {
    await broker.stop();
  }
}

/** A persistent session's QoS 1 subscription: a durable queue, so QoS 1/2 publishes to `topic` wait for the disk. */
async function durableSubscriber(broker: TestBroker, topic: string): Promise<void> {
  const subscriber = await RawMqttClient.open(broker.broker.ports.mqtt as number);
  await subscriber.connect(`sub-${topic.replaceAll("/", "-")}`, { clean: false });
  subscriber.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 1 }] });
  await subscriber.next("suback");
  subscriber.send({ cmd: "disconnect" });
  await subscriber.waitClosed();
}

const publish = (client: RawMqttClient, topic: string, qos: 1 | 2, messageId: number): void =>
  client.send({
    cmd: "publish",
    topic,
    payload: Buffer.from(`m${messageId}`),
    qos,
    messageId,
    retain: false,
    dup: false,
  });

async function assertMqttServes(broker: TestBroker): Promise<void> {
  const client = await mqtt.connectAsync(broker.broker.urls.mqtt as string, { protocolVersion: 5 });
  await client.publishAsync("rm/health", "ok", { qos: 1 });
  await client.endAsync();
}

test("QoS 1 PUBLISHes waiting for their PUBACK count: one past Receive Maximum is DISCONNECT 0x93", async () => {
  const held = new HeldSync();
  await withBroker("over", held.sync, async (broker) => {
    await durableSubscriber(broker, "rm/over");
    const client = await RawMqttClient.open(broker.broker.ports.mqtt as number, 5);
    assert.equal((await client.connect("rm-over")).properties?.receiveMaximum, RECEIVE_MAXIMUM);
    held.holding = true;
    publish(client, "rm/over", 1, 1);
    publish(client, "rm/over", 1, 2);
    await waitFor(() => held.waiting > 0);
    publish(client, "rm/over", 1, 3);
    assert.equal((await client.next("disconnect")).reasonCode, 0x93);
    await client.waitClosed();
    assert.equal(client.count("puback"), 0);
    held.release();
    await assertMqttServes(broker);
  });
});

test("a PUBACK sent frees its place: Receive Maximum QoS 1 publishes at a time go on without end", async () => {
  const held = new HeldSync();
  await withBroker("within", held.sync, async (broker) => {
    await durableSubscriber(broker, "rm/within");
    const client = await RawMqttClient.open(broker.broker.ports.mqtt as number, 5);
    await client.connect("rm-within");
    for (let round = 0; round < 3; round++) {
      held.holding = true;
      publish(client, "rm/within", 1, 2 * round + 1);
      publish(client, "rm/within", 1, 2 * round + 2);
      await waitFor(() => held.waiting > 0);
      held.release();
      assert.equal((await client.next("puback")).messageId, 2 * round + 1);
      assert.equal((await client.next("puback")).messageId, 2 * round + 2);
    }
    assert.equal(client.count("disconnect"), 0);
    assert.equal(client.closed, false);
    client.destroy();
  });
});

test("MQTT 5: a publish whose write failed is refused with PUBACK / PUBREC 0x80; the refused QoS 2 id is a new message when resent", async () => {
  const sync = new SyncSwitch();
  await withBroker("refused", sync.sync, async (broker) => {
    await durableSubscriber(broker, "rm/refused");
    const client = await RawMqttClient.open(broker.broker.ports.mqtt as number, 5);
    await client.connect("rm-refused");
    sync.failing = true;
    publish(client, "rm/refused", 1, 1);
    const puback = await client.next("puback");
    assert.deepEqual([puback.messageId, puback.reasonCode], [1, 0x80]);
    publish(client, "rm/refused", 2, 2);
    const pubrec = await client.next("pubrec");
    assert.deepEqual([pubrec.messageId, pubrec.reasonCode], [2, 0x80]);
    sync.failing = false;
    // Resent with the same id after the refusal: stored and acknowledged this time, not taken for a duplicate.
    client.send({
      cmd: "publish",
      topic: "rm/refused",
      payload: Buffer.from("again"),
      qos: 2,
      messageId: 2,
      retain: false,
      dup: true,
    });
    const again = await client.next("pubrec");
    assert.deepEqual([again.messageId, again.reasonCode], [2, 0]);
    client.send({ cmd: "pubrel", messageId: 2 });
    assert.equal((await client.next("pubcomp")).reasonCode, 0);
    client.destroy();
    takeWriteFailureLogs(broker);
  });
});
