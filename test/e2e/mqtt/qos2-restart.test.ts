/**
 * Exactly-once for inbound QoS 2 across a broker restart [MQTT-4.3.3-9]: a
 * persistent session's packet ids that got PUBREC but no PUBREL yet are kept
 * on disk, so the client's resend (DUP=1, same id) after the restart is
 * answered with PUBREC and not routed a second time.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { RawMqttClient } from "./raw-client.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-mqtt-qos2-restart-"));
});
/** The broker left running when a test failed half-way: stopped without the harness checks so the process can end. */
let running: TestBroker | null = null;
const clients: Array<{ destroy(): void }> = [];
after(async () => {
  for (const client of clients) client.destroy();
  if (running) await running.broker.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<TestBroker> {
  running = await TestBroker.start({ storage: { dir } });
  return running;
}

async function stop(broker: TestBroker): Promise<void> {
  running = null;
  await broker.stop();
}

async function openRaw(broker: TestBroker): Promise<RawMqttClient> {
  const raw = await RawMqttClient.open(mqttPort(broker));
  clients.push(raw);
  return raw;
}
const mqttPort = (broker: TestBroker): number => broker.broker.ports.mqtt as number;

/** Connects the persistent subscriber, publishes a QoS 1 marker, and returns every payload it got up to the marker. */
async function drainSubscriber(broker: TestBroker, publisher: RawMqttClient, markerId: number): Promise<string[]> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort(broker)}`, {
    clientId: "qos2-restart-sub",
    clean: false,
    reconnectPeriod: 0,
  });
  clients.push({ destroy: () => client.end(true) });
  const got: string[] = [];
  // Listening before CONNACK: the queued messages may arrive in the same chunk.
  client.on("message", (_topic, payload) => got.push(payload.toString()));
  await new Promise((resolve, reject) => client.once("connect", resolve).once("error", reject));
  publisher.send({
    cmd: "publish",
    topic: "qos2r/marker",
    payload: Buffer.from(`marker-${markerId}`),
    qos: 1,
    messageId: markerId,
    dup: false,
    retain: false,
  });
  await publisher.next("puback");
  await waitFor(() => got.includes(`marker-${markerId}`));
  await client.endAsync();
  return got;
}

test("a QoS 2 PUBLISH resent with DUP after a restart gets PUBREC, is not routed again, and PUBREL → PUBCOMP completes it", async () => {
  // The subscriber's persistent session queues what is published while it is away.
  const first = await start();
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort(first)}`, {
    clientId: "qos2-restart-sub",
    clean: false,
    reconnectPeriod: 0,
  });
  await sub.subscribeAsync("qos2r/#", { qos: 1 });
  await sub.endAsync();

  const publish = {
    cmd: "publish",
    topic: "qos2r/once",
    payload: Buffer.from("exactly-once"),
    qos: 2,
    messageId: 7,
    retain: false,
  } as const;
  const pub1 = await openRaw(first);
  assert.equal((await pub1.connect("qos2-restart-pub", { clean: false })).returnCode, 0);
  pub1.send({ ...publish, dup: false });
  assert.equal((await pub1.next("pubrec")).messageId, 7);
  // No PUBREL: the broker stops while packet id 7 awaits release.
  await stop(first);
  pub1.destroy();

  const second = await start();
  const pub2 = await openRaw(second);
  const connack = await pub2.connect("qos2-restart-pub", { clean: false });
  assert.equal(connack.sessionPresent, true);
  pub2.send({ ...publish, dup: true });
  assert.equal((await pub2.next("pubrec")).messageId, 7);
  pub2.send({ cmd: "pubrel", messageId: 7 });
  assert.equal((await pub2.next("pubcomp")).messageId, 7);
  const got = await drainSubscriber(second, pub2, 100);
  assert.deepEqual(
    got.filter((p) => p === "exactly-once"),
    ["exactly-once"],
    `subscriber got ${JSON.stringify(got)}`,
  );
  await stop(second);
  pub2.destroy();

  // The release was written too: after another restart, id 7 starts a new message.
  const third = await start();
  const pub3 = await openRaw(third);
  assert.equal((await pub3.connect("qos2-restart-pub", { clean: false })).sessionPresent, true);
  pub3.send({ ...publish, payload: Buffer.from("new-message"), dup: false });
  assert.equal((await pub3.next("pubrec")).messageId, 7);
  pub3.send({ cmd: "pubrel", messageId: 7 });
  await pub3.next("pubcomp");
  const later = await drainSubscriber(third, pub3, 101);
  assert.deepEqual(
    later.filter((p) => p !== "marker-101"),
    ["new-message"],
    `subscriber got ${JSON.stringify(later)}`,
  );
  // Both sessions end here so the data dir holds nothing for the next run.
  pub3.send({ cmd: "disconnect" });
  await pub3.waitClosed();
  const cleanup = await openRaw(third);
  await cleanup.connect("qos2-restart-pub", { clean: true });
  const cleanupSub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort(third)}`, {
    clientId: "qos2-restart-sub",
    clean: true,
    reconnectPeriod: 0,
  });
  await cleanupSub.endAsync();
  cleanup.destroy();
  await stop(third);
});
