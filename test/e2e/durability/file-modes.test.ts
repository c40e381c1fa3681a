/**
 * Data dir files are private to the broker's user (issue 11): definitions
 * hold password hashes, the logs hold every message. Created 0600 (files)
 * and 0700 (directories); what an older version left 0644/0755 is
 * tightened on start.
 */
import assert from "node:assert/strict";
import { chmodSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";

const dirs = useDataDirs("warren-modes");

/** Mode bits of the dir and everything in it, by path relative to it ("." for the dir). */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { ".": (statSync(dir).mode & 0o777).toString(8) };
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const stats = statSync(full);
      out[relative(dir, full)] = (stats.mode & 0o777).toString(8);
      if (stats.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

function loosen(dir: string): void {
  chmodSync(dir, 0o755);
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const directory = statSync(full).isDirectory();
      chmodSync(full, directory ? 0o755 : 0o644);
      if (directory) walk(full);
    }
  };
  walk(dir);
}

/** Leaves definitions, a segment, and MQTT state (a retained message, a persistent session) on disk. */
async function fill(dir: string): Promise<void> {
  await withBrokerOn(dir, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("modes", { durable: true });
    channel.sendToQueue("modes", Buffer.from("secret"), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    const client = await mqtt.connectAsync(broker.broker.urls.mqtt as string, {
      clientId: "modes",
      clean: false,
      reconnectPeriod: 0,
    });
    await client.subscribeAsync("modes/#", { qos: 1 });
    await client.publishAsync("modes/retained", "kept", { qos: 1, retain: true });
    await client.endAsync();
  });
}

function expectPrivate(dir: string, found: Record<string, string>): void {
  assert.ok(Object.keys(found).length >= 5, `the broker left its files: ${JSON.stringify(found)}`);
  for (const [path, mode] of Object.entries(found)) {
    const expected = statSync(join(dir, path)).isDirectory() ? "700" : "600";
    assert.equal(mode, expected, `${path}`);
  }
}

test("a new data dir: directories 0700, files 0600", async () => {
  const dir = await dirs.fresh("new");
  await fill(dir);
  const found = modes(dir);
  expectPrivate(dir, found);
  assert.equal(found["."], "700");
  assert.equal(found["messages"], "700");
  assert.equal(found["definitions.json"], "600");
});

test("a data dir left 0755/0644 by an older version is tightened on start; a file the operator put there is left alone", async () => {
  const dir = await dirs.fresh("old");
  await fill(dir);
  loosen(dir);
  writeFileSync(join(dir, "README.operator"), "notes", { mode: 0o644 });
  assert.equal(modes(dir)["definitions.json"], "644");
  await withBrokerOn(dir, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    const message = await channel.get("modes", { noAck: false });
    assert.ok(message !== false);
    assert.equal(message.content.toString(), "secret");
    await connection.close();
  });
  const { "README.operator": operatorFile, ...ours } = modes(dir);
  assert.equal(operatorFile, "644");
  expectPrivate(dir, ours);
  assert.equal(ours["."], "700");
});
