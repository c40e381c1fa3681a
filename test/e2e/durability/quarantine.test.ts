/**
 * Recovery never refuses to start because of one record (issue 11): a
 * persistent message whose headers were nested 1,200 levels deep made the
 * data dir unstartable ("field table nested too deeply", exit 1, every
 * time). Such a record is now copied to <dir>/quarantine/ with a warning
 * naming its queue and id, and recovery goes on; the same for MQTT state.
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import type { FieldTable } from "../../../src/core/message.js";
import { silentLogger } from "../../../src/log.js";
import { FileStore } from "../../../src/store/file/file-store.js";
import { encodeRetainedPut } from "../../../src/store/file/mqtt-state-codec.js";
import { RecordType, scanRecord } from "../../../src/store/file/record-codec.js";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { codec } from "../../helpers/store-implementations.js";

const dirs = useDataDirs("warren-quarantine");

/** Headers nested past the AMQP decoder's depth limit (1,000), as the HTTP API once accepted. */
function deepHeaders(depth: number): FieldTable {
  let table: FieldTable = { leaf: "bottom" };
  for (let i = 0; i < depth; i++) table = { n: table };
  return table;
}

test("a logged message whose properties do not decode is set aside; the broker starts with the others", async () => {
  const dir = await dirs.fresh("messages");
  await withBrokerOn(dir, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("q", { durable: true });
    channel.sendToQueue("q", Buffer.from("good 1"), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
  });
  // The bad record written straight through the store API, as an older broker would have.
  const store = new FileStore({ dir, codec, logger: silentLogger() });
  store.messages.recover();
  const message = (body: string, headers: FieldTable = {}) => ({
    exchange: "",
    routingKey: "q",
    properties: { deliveryMode: 2, headers },
    encodedProperties: null,
    body: Buffer.from(body),
  });
  const badId = store.messages.enqueue("/\u0000q", message("deep", deepHeaders(1200)), Date.now());
  store.messages.enqueue("/\u0000q", message("good 2"), Date.now());
  await store.close();

  const broker = await TestBroker.start({ storage: { dir } });
  const warning = broker.logs.find((l) => l.msg === "message log: a message that cannot be read was set aside");
  assert.ok(warning, "a warning names the record");
  assert.equal(warning.level, 40);
  assert.equal(warning.queue, "/ q");
  assert.equal(warning.id, badId);
  assert.match(String(warning.reason), /nested too deeply/);
  assert.equal(warning.quarantine, join(dir, "quarantine", "messages.records"));
  assert.deepEqual(await drainQueueAt(broker.url, "q"), ["good 1", "good 2"]);
  await broker.stop();

  const quarantined = readFileSync(join(dir, "quarantine", "messages.records"));
  const record = scanRecord(quarantined, 0);
  assert.ok(record.ok && record.record.type === RecordType.Enqueue, "the quarantine holds the framed record");
  assert.equal(record.record.id, badId);
  assert.equal(record.record.queueKey, "/\u0000q");
  assert.equal(quarantined.subarray(record.record.bodyStart).toString(), "deep");
  assert.equal(record.next, quarantined.length);

  // Set aside once: the next start neither warns nor adds to the quarantine.
  const again = await TestBroker.start({ storage: { dir } });
  assert.equal(again.logs.filter((l) => l.level >= 40).length, 0);
  assert.equal(statSync(join(dir, "quarantine", "messages.records")).size, quarantined.length);
  await again.stop();
});

test("an MQTT state record that does not decode is set aside; the other retained messages are served", async () => {
  const dir = await dirs.fresh("mqtt");
  await withBrokerOn(dir, async (broker) => {
    const client = await mqtt.connectAsync(broker.broker.urls.mqtt as string, { reconnectPeriod: 0 });
    await client.publishAsync("kept/1", "one", { qos: 1, retain: true });
    await client.endAsync();
  });
  const bad = encodeRetainedPut(
    {
      vhost: "/",
      topic: "kept/deep",
      qos: 1,
      properties: { headers: deepHeaders(1200) },
      payload: Buffer.from("deep"),
    },
    codec,
  );
  const good = encodeRetainedPut(
    { vhost: "/", topic: "kept/2", qos: 0, properties: {}, payload: Buffer.from("two") },
    codec,
  );
  appendFileSync(join(dir, "mqtt", "state.log"), Buffer.concat([bad, good]));

  const broker = await TestBroker.start({ storage: { dir } });
  const warning = broker.logs.find((l) => l.msg === "MQTT state: a record that does not decode was set aside");
  assert.ok(warning);
  assert.match(String(warning.reason), /nested too deeply/);
  assert.deepEqual(readFileSync(join(dir, "quarantine", "mqtt-state.records")), bad);
  const client = await mqtt.connectAsync(broker.broker.urls.mqtt as string, { reconnectPeriod: 0 });
  const got = new Map<string, string>();
  client.on("message", (topic, payload) => got.set(topic, payload.toString()));
  await client.subscribeAsync("kept/#", { qos: 1 });
  await waitFor(() => got.size === 2);
  assert.deepEqual(Object.fromEntries(got), { "kept/1": "one", "kept/2": "two" });
  await client.endAsync();
  await broker.stop();
});
