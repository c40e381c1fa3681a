import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { Offset, type Client } from "rabbitmq-stream-js-client";
import { waitFor } from "../../helpers/broker.js";
import { streamClient } from "../../helpers/stream-client.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";

// Server-side offset tracking (StoreOffset / QueryOffset) and publisher
// sequences (deduplication) are kept in the stream's tracking.json, written
// atomically and fsynced by the group commit that confirms the publishes after them.

const dirs = useDataDirs("warren-stream-tracking");
after(() => killAllChildren());

const client = streamClient;

/**
 * A consumer stores `offset` for `reference` (seen by QueryOffset: the
 * broker has it), then one message is published with a publisher reference
 * and its confirm awaited: the group commit behind that confirm wrote the tracking.
 */
async function storeThenConfirm(c: Client, stream: string, reference: string, offset: bigint): Promise<void> {
  await c.createStream({ stream });
  const consumer = await c.declareConsumer({ stream, offset: Offset.next(), consumerRef: reference }, () => {});
  await consumer.storeOffset(offset);
  await waitFor(async () => (await c.queryOffset({ reference, stream }).catch(() => -1n)) === offset);
  const publisher = await c.declarePublisher({ stream, publisherRef: "pub-t" });
  let confirmed = false;
  publisher.on("publish_confirm", (error, ids) => (confirmed ||= error === null && ids.includes(41n)));
  await publisher.send(Buffer.from("after the store"), { publishingId: 41n });
  await publisher.flush();
  await waitFor(() => confirmed);
}

test("a stored consumer offset and a publisher sequence survive a clean restart", async () => {
  const dir = await dirs.fresh("clean");
  await withBrokerOn(dir, async (broker) => {
    const c = await client(broker.broker.ports.stream as number);
    await storeThenConfirm(c, "st.clean", "tracker", 1234n);
    await c.close();
  });
  await withBrokerOn(dir, async (broker) => {
    const c = await client(broker.broker.ports.stream as number);
    assert.equal(await c.queryOffset({ reference: "tracker", stream: "st.clean" }), 1234n);
    const publisher = await c.declarePublisher({ stream: "st.clean", publisherRef: "pub-t" });
    assert.equal(await publisher.getLastPublishingId(), 41n);
    await publisher.close();
    await c.deleteStream({ stream: "st.clean" });
    await c.close();
  });
});

test("SIGKILL after a confirm that followed StoreOffset: the stored offset is there after the restart, no temp file left", async () => {
  const dir = await dirs.fresh("kill");
  const first = await startChildBroker(dir, [], {}, ["--stream-port", "0"]);
  const c = await client(first.ports["stream"] as number);
  await storeThenConfirm(c, "st.kill", "tracker", 77n);
  await killed(first.child);
  const [streamDir] = await readdir(join(dir, "streams"));
  const files = await readdir(join(dir, "streams", streamDir as string));
  assert.equal(files.includes("tracking.json.tmp"), false);
  const saved = JSON.parse(await readFile(join(dir, "streams", streamDir as string, "tracking.json"), "utf8")) as {
    offsets: Record<string, number>;
    publishers: Record<string, string>;
  };
  assert.deepEqual(saved, { publishers: { "pub-t": "41" }, offsets: { tracker: 77 } });

  const second = await startChildBroker(dir, [], {}, ["--stream-port", "0"]);
  const again = await client(second.ports["stream"] as number);
  assert.equal(await again.queryOffset({ reference: "tracker", stream: "st.kill" }), 77n);
  await again.close();
  await killed(second.child);
});
