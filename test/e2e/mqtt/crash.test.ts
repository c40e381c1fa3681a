/**
 * MQTT persistent sessions under a real process kill: a child `warren`,
 * SIGKILL while QoS 1 publishes are in flight, restart on the same data dir.
 * Every PUBACKed message must reach the persistent subscriber once, and a
 * QoS 2 publish that got PUBREC before the kill is not delivered twice when
 * the client resends it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import type { IPubackPacket } from "mqtt-packet";
import { waitFor } from "../../helpers/broker.js";
import { killAllChildren, killed, startChildBroker, type ChildBroker } from "../../helpers/child-broker.js";
import { RawMqttClient } from "./raw-client.js";

let dir: string;
const clients: Array<{ destroy(): void }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-mqtt-crash-"));
});
after(async () => {
  for (const client of clients) client.destroy();
  killAllChildren();
  await rm(dir, { recursive: true, force: true });
});

async function openRaw(port: number): Promise<RawMqttClient> {
  const raw = await RawMqttClient.open(port);
  clients.push(raw);
  return raw;
}

/** The persistent subscriber: connects with clean=false and collects payloads (listening before CONNACK). */
async function subscriber(port: number): Promise<{ client: mqtt.MqttClient; got: string[]; sessionPresent: boolean }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: "crash-sub", clean: false, reconnectPeriod: 0 });
  clients.push({ destroy: () => client.end(true) });
  const got: string[] = [];
  client.on("message", (_topic, payload) => got.push(payload.toString()));
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) =>
    client.once("connect", resolve).once("error", reject),
  );
  return { client, got, sessionPresent: connack.sessionPresent };
}

/** A child broker with MQTT only, as `{ child, port }`. */
const mqttChild = async (): Promise<{ child: ChildBroker["child"]; port: number }> => {
  const { child, ports } = await startChildBroker(dir, ["mqtt"]);
  return { child, port: ports.mqtt as number };
};

test("SIGKILL during QoS 1 publishing: every PUBACKed message reaches the persistent subscriber after the restart, once", async () => {
  const first = await mqttChild();
  const sub = await subscriber(first.port);
  await sub.client.subscribeAsync("crash/#", { qos: 1 });
  await sub.client.endAsync();

  const pub = await openRaw(first.port);
  assert.equal((await pub.connect("crash-pub", { clean: false })).returnCode, 0);
  // QoS 2 first: PUBREC, then the kill before PUBREL.
  const qos2 = {
    cmd: "publish",
    topic: "crash/qos2",
    payload: Buffer.from("qos2-once"),
    qos: 2,
    messageId: 65000,
    retain: false,
  } as const;
  pub.send({ ...qos2, dup: false });
  await pub.next("pubrec");
  // QoS 1 publishes in bursts; the kill lands while some are still unacknowledged.
  const total = 3000;
  for (let id = 1; id <= total; id++) {
    pub.send({
      cmd: "publish",
      topic: "crash/q1",
      payload: Buffer.from(`m${id}`),
      qos: 1,
      messageId: id,
      dup: false,
      retain: false,
    });
    if (id % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (id === 1500) await waitFor(() => pub.count("puback") >= 200 || null);
  }
  await killed(first.child);
  const acked = pub.received.filter((p): p is IPubackPacket => p.cmd === "puback").map((p) => `m${p.messageId ?? 0}`);
  pub.destroy();
  assert.ok(acked.length >= 200, `acked ${acked.length}`);

  const second = await mqttChild();
  const pub2 = await openRaw(second.port);
  assert.equal((await pub2.connect("crash-pub", { clean: false })).sessionPresent, true);
  pub2.send({ ...qos2, dup: true });
  assert.equal((await pub2.next("pubrec")).messageId, 65000);
  pub2.send({ cmd: "pubrel", messageId: 65000 });
  await pub2.next("pubcomp");
  pub2.send({
    cmd: "publish",
    topic: "crash/marker",
    payload: Buffer.from("marker"),
    qos: 1,
    messageId: 1,
    dup: false,
    retain: false,
  });
  await pub2.next("puback");

  const back = await subscriber(second.port);
  assert.equal(back.sessionPresent, true);
  await waitFor(() => back.got.includes("marker") || null, 20_000);
  const got = new Set(back.got);
  const lost = acked.filter((id) => !got.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
  const copies = back.got.filter((p) => p === "qos2-once").length;
  assert.equal(copies, 1, "the QoS 2 message exactly once");
  const duplicates = back.got.filter((p, i) => back.got.indexOf(p) !== i);
  assert.deepEqual(duplicates, [], "nothing delivered twice");
  await back.client.endAsync();
  pub2.destroy();
  await killed(second.child);
});
