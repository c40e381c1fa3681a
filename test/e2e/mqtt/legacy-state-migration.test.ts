/**
 * Data dirs of earlier versions kept MQTT state in mqtt-sessions.json and
 * mqtt-retained.json (payloads in base64). The first start of this version
 * moves them into the store and removes them; what they held is served, and
 * still there after the next restart.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useDataDirs } from "../../helpers/data-dirs.js";

const dirs = useDataDirs("warren-mqtt-legacy");

/** The documents as the previous version wrote them (src/mqtt/durable/{session,retained}-file.ts before this change). */
function writeLegacyFiles(dir: string): void {
  writeFileSync(
    join(dir, "mqtt-sessions.json"),
    JSON.stringify({
      warren_mqtt_sessions: 1,
      sessions: [
        {
          vhost: "/",
          clientId: "legacy-device",
          expirySeconds: 3600,
          detachedAt: Date.now() - 1000,
          subscriptions: [],
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, "mqtt-retained.json"),
    JSON.stringify({
      warren_mqtt_retained: 1,
      messages: [
        {
          vhost: "/",
          topic: "legacy/a",
          qos: 1,
          payload: Buffer.from("from the JSON file").toString("base64"),
          properties: { deliveryMode: 2, contentType: "text/plain", headers: { big: { $bigint: "9007199254740993" } } },
        },
        {
          vhost: "/",
          topic: "legacy/b",
          qos: 0,
          payload: Buffer.from([0, 1, 2, 255]).toString("base64"),
          properties: {},
        },
      ],
    }),
  );
}

async function retainedOn(broker: TestBroker): Promise<Map<string, mqtt.IPublishPacket>> {
  const client = await mqtt.connectAsync(broker.broker.urls.mqtt as string, { protocolVersion: 5, reconnectPeriod: 0 });
  const got = new Map<string, mqtt.IPublishPacket>();
  client.on("message", (_topic, _payload, packet) => got.set(packet.topic, packet));
  await client.subscribeAsync("legacy/#", { qos: 1 });
  await waitFor(() => got.size === 2);
  await client.endAsync();
  return got;
}

async function sessionPresent(broker: TestBroker, clientId: string): Promise<boolean> {
  const client = mqtt.connect(broker.broker.urls.mqtt as string, { clientId, clean: false, reconnectPeriod: 0 });
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) =>
    client.once("connect", resolve).once("error", reject),
  );
  await client.endAsync();
  return connack.sessionPresent;
}

test("the JSON files of an earlier version are moved into the store, served, and removed", async () => {
  const dir = await dirs.fresh("legacy");
  writeLegacyFiles(dir);
  const first = await TestBroker.start({ storage: { dir } });
  assert.equal(existsSync(join(dir, "mqtt-sessions.json")), false);
  assert.equal(existsSync(join(dir, "mqtt-retained.json")), false);
  assert.ok(
    first.logs.some(
      (l) =>
        l.msg === "MQTT state moved from the JSON files of an earlier version into the store" &&
        l.sessions === 1 &&
        l.retained === 2,
    ),
  );
  const got = await retainedOn(first);
  assert.equal(got.get("legacy/a")?.payload.toString(), "from the JSON file");
  assert.equal(got.get("legacy/a")?.properties?.contentType, "text/plain");
  assert.deepEqual([...(got.get("legacy/b")?.payload ?? [])], [0, 1, 2, 255]);
  assert.equal(await sessionPresent(first, "legacy-device"), true);
  await first.stop();

  // From the store now: the next start has no files to read and serves the same.
  const second = await TestBroker.start({ storage: { dir } });
  assert.ok(!second.logs.some((l) => l.msg.startsWith("MQTT state moved")));
  const again = await retainedOn(second);
  assert.equal(again.get("legacy/a")?.payload.toString(), "from the JSON file");
  assert.equal(await sessionPresent(second, "legacy-device"), true);
  await second.stop();
});

test("an unreadable JSON file of an earlier version is left in place with a warning; the broker starts", async () => {
  const dir = await dirs.fresh("unreadable");
  writeFileSync(join(dir, "mqtt-retained.json"), "{ torn");
  const broker = await TestBroker.start({ storage: { dir } });
  assert.ok(broker.logs.some((l) => l.level === 40 && String(l.msg).includes("unreadable; left in place")));
  assert.equal(existsSync(join(dir, "mqtt-retained.json")), true);
  await broker.stop();
});
