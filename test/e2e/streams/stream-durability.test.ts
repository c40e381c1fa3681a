import assert from "node:assert/strict";
import { appendFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import amqplib, { type Channel, type ConsumeMessage } from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";

const dirs = useDataDirs("warren-streams");
after(() => killAllChildren());

const STREAM = { "x-queue-type": "stream" };

async function readAll(channel: Channel, queue: string, count: number): Promise<ConsumeMessage[]> {
  const got: ConsumeMessage[] = [];
  await channel.prefetch(500);
  const { consumerTag } = await channel.consume(queue, (m) => m && (got.push(m), channel.ack(m)), {
    arguments: { "x-stream-offset": "first" },
  });
  await waitFor(() => got.length >= count);
  await channel.cancel(consumerTag);
  return got;
}

test("a stream and its entries survive a restart; offsets carry on where they were", async () => {
  const dir = await dirs.fresh("restart");
  await withBrokerOn(dir, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("sd.restart", {
      durable: true,
      arguments: { ...STREAM, "x-stream-max-segment-size-bytes": 4096 },
    });
    for (let i = 0; i < 300; i++) channel.sendToQueue("sd.restart", Buffer.from(`m${i}`), { headers: { n: i } });
    await channel.waitForConfirms();
    await connection.close();
  });
  await withBrokerOn(dir, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    const ok = await channel.checkQueue("sd.restart");
    assert.equal(ok.queue, "sd.restart");
    channel.sendToQueue("sd.restart", Buffer.from("after"));
    await channel.waitForConfirms();
    const got = await readAll(channel, "sd.restart", 301);
    assert.deepEqual(
      got.map((m) => m.content.toString()),
      [...Array.from({ length: 300 }, (_, i) => `m${i}`), "after"],
    );
    assert.equal(got[300]?.properties.headers?.["x-stream-offset"], 300);
    assert.equal(got[7]?.properties.headers?.["n"], 7);
    await channel.deleteQueue("sd.restart");
    await connection.close();
  });
});

test("SIGKILL after confirms: every confirmed entry is there after the restart, and a torn tail is cut", async () => {
  const dir = await dirs.fresh("kill");
  const first = await startChildBroker(dir, ["amqp"]);
  const url = `amqp://guest:guest@127.0.0.1:${first.ports.amqp as number}`;
  const connection = await amqplib.connect(url);
  connection.on("error", () => {});
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue("sd.kill", { durable: true, arguments: STREAM });
  for (let i = 0; i < 1000; i++) channel.sendToQueue("sd.kill", Buffer.from(`k${i}`));
  await channel.waitForConfirms();
  await killed(first.child);
  // A write cut short by the crash: half an entry header at the end of the segment.
  const streams = join(dir, "streams");
  const [streamDir] = await readdir(streams);
  const [segment] = (await readdir(join(streams, streamDir as string))).filter((name) => name.endsWith(".segment"));
  await appendFile(join(streams, streamDir as string, segment as string), Buffer.from([0x30, 0, 0, 0, 1]));

  const second = await startChildBroker(dir, ["amqp"]);
  const again = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${second.ports.amqp as number}`);
  const reader = await again.createConfirmChannel();
  reader.sendToQueue("sd.kill", Buffer.from("after"));
  await reader.waitForConfirms();
  const got = await readAll(reader, "sd.kill", 1001);
  assert.deepEqual(
    got.map((m) => m.content.toString()),
    [...Array.from({ length: 1000 }, (_, i) => `k${i}`), "after"],
  );
  await again.close();
  await killed(second.child);
});
