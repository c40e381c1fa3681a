import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import amqplib from "amqplib";
import type { TestBroker } from "../../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { skipWithout } from "../../helpers/binaries.js";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";
import { streamClient } from "../../helpers/stream-client.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");
const AUTH = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
const REFUSAL = "streams are not available in a Warren cluster yet";

/**
 * A stream's log is a set of local files. On a cluster node each node would
 * keep its own, and a consumer on one node never saw what was published on
 * another (checked before this refusal: five confirmed publishes on B, none
 * read from "first" on A). Until streams live in JetStream, every way of
 * making one is refused on a cluster node, and the node serves on.
 */
describe("cluster: streams are refused, not split between nodes", { skip, timeout: 120_000 }, () => {
  const nodes = useTwoClusterNodes();
  let a: TestBroker;
  before(() => ({ a } = nodes));

  test("AMQP queue.declare with x-queue-type stream is 406 with the reason; the connection declares a classic queue after", async () => {
    const connection = await amqplib.connect(a.url);
    const refused = await connection.createChannel();
    refused.on("error", () => {}); // the close is checked below
    await rejectsWithClose(
      refused.assertQueue("events", { durable: true, arguments: { "x-queue-type": "stream" } }),
      406,
      `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'events' in vhost '/': "${REFUSAL}"`,
    );
    const channel = await connection.createChannel();
    assert.equal((await channel.assertQueue("after-stream-refusal", { durable: true })).queue, "after-stream-refusal");
    await channel.deleteQueue("after-stream-refusal");
    await connection.close();
  });

  test("the stream protocol's Create answers 17 (precondition failed) and the connection still answers", async () => {
    const client = await streamClient(a.broker.ports.stream as number);
    await assert.rejects(client.createStream({ stream: "events", arguments: {} }), /17/);
    const metadata = await client.queryMetadata({ streams: ["events"] });
    assert.equal(metadata[0]?.responseCode, 2, "no stream was made");
    await client.close();
  });

  test("the management API's PUT of a stream queue is 400 with the reason", async () => {
    const response = await fetch(`${a.broker.urls.http}/api/queues/%2F/events`, {
      method: "PUT",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({ durable: true, arguments: { "x-queue-type": "stream" } }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; reason: string };
    assert.equal(body.reason, `invalid arg 'x-queue-type' for queue 'events' in vhost '/': "${REFUSAL}"`);
    const overview = await fetch(`${a.broker.urls.http}/api/overview`, { headers: AUTH });
    assert.equal(overview.status, 200);
  });
});
