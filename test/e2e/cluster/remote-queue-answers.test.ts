import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import amqplib, { type GetMessage } from "amqplib";
import { type TestBroker, waitFor } from "../../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { skipWithout } from "../../helpers/binaries.js";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");
const AUTH = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };

/**
 * What a queue says about itself, asked on a node that does not own it
 * (issue 10): RabbitMQ answers basic.get, declare-ok's counts, the
 * management API's counts and exclusive consumers from any node, with the
 * leader's figures; Warren asks the owner.
 */
describe("cluster: a queue answers from a node that does not own it", { skip, timeout: 240_000 }, () => {
  const nodes = useTwoClusterNodes();
  let a: TestBroker;
  let b: TestBroker;
  before(() => ({ a, b } = nodes));

  const queueOn = (node: TestBroker, name: string) => node.broker.core.vhosts.get("/")?.queues.get(name);

  /** A durable queue declared on A (A owns it) holding `count` persistent messages q0, q1, ... */
  async function queueOnA(name: string, count: number): Promise<void> {
    const connection = await amqplib.connect(a.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(name, { durable: true });
    for (let i = 0; i < count; i++) channel.sendToQueue(name, Buffer.from(`q${i}`), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    for (const node of [a, b]) await waitFor(() => queueOn(node, name)?.ownerNode === "warren@a");
  }

  test("declare-ok on B carries the owner's message count, and basic.get on B takes messages from the owner", async () => {
    await queueOnA("got", 3);
    const connection = await amqplib.connect(b.url);
    const channel = await connection.createChannel();
    assert.deepEqual(await channel.checkQueue("got"), { queue: "got", messageCount: 3, consumerCount: 0 });

    const first = (await channel.get("got")) as GetMessage;
    assert.equal(first.content.toString(), "q0");
    assert.equal(first.fields.messageCount, 2);
    assert.equal(first.fields.redelivered, false);
    await waitFor(() => queueOn(a, "got")?.unackedCount === 1);
    channel.nack(first, false, true);
    await waitFor(() => queueOn(a, "got")?.messageCount === 3 && queueOn(a, "got")?.unackedCount === 0);

    const again = (await channel.get("got")) as GetMessage;
    assert.deepEqual([again.content.toString(), again.fields.redelivered], ["q0", true]);
    channel.ack(again);
    const noAck = (await channel.get("got", { noAck: true })) as GetMessage;
    assert.deepEqual([noAck.content.toString(), noAck.fields.messageCount], ["q1", 1]);
    const last = (await channel.get("got")) as GetMessage;
    assert.equal(last.content.toString(), "q2");
    channel.ack(last);
    assert.equal(await channel.get("got"), false);
    await waitFor(() => queueOn(a, "got")?.messageCount === 0 && queueOn(a, "got")?.unackedCount === 0);
    assert.deepEqual(await channel.checkQueue("got"), { queue: "got", messageCount: 0, consumerCount: 0 });
    await connection.close();
  });

  test("the management API on B shows the owner's message and consumer counts", async () => {
    await queueOnA("counted", 4);
    const consumerConnection = await amqplib.connect(a.url);
    const consumerChannel = await consumerConnection.createChannel();
    await consumerChannel.prefetch(1);
    await consumerChannel.consume("counted", () => {});
    await waitFor(() => queueOn(a, "counted")?.unackedCount === 1);
    const response = await fetch(`${b.broker.urls.http}/api/queues/%2F/counted`, { headers: AUTH });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(
      [body["node"], body["messages_ready"], body["messages_unacknowledged"], body["messages"]],
      ["warren@a", 3, 1, 4],
    );
    assert.equal(body["consumers"], 1);
    const list = (await (await fetch(`${b.broker.urls.http}/api/queues/%2F`, { headers: AUTH })).json()) as Array<
      Record<string, unknown>
    >;
    assert.equal(list.find((q) => q["name"] === "counted")?.["messages_ready"], 3);
    await consumerConnection.close();
  });

  test("basic.consume on B is refused with 403 before consume-ok while the owner has an exclusive consumer, and the reverse", async () => {
    await queueOnA("exclusive", 1);
    const holder = await amqplib.connect(a.url);
    const holderChannel = await holder.createChannel();
    await holderChannel.consume("exclusive", () => {}, { exclusive: true });
    await waitFor(() => queueOn(a, "exclusive")?.consumerCount === 1);

    const connection = await amqplib.connect(b.url);
    const text = "ACCESS_REFUSED - queue 'exclusive' in vhost '/' in exclusive use";
    const refused = await connection.createChannel();
    refused.on("error", () => {}); // the close is read from the rejected consume
    await rejectsWithClose(
      refused.consume("exclusive", () => {}),
      403,
      text,
    );
    await holder.close();

    // With a plain consumer at the owner, an exclusive one on B is refused the same way.
    const plain = await amqplib.connect(a.url);
    const plainChannel = await plain.createChannel();
    await plainChannel.consume("exclusive", () => {});
    await waitFor(() => queueOn(a, "exclusive")?.consumerCount === 1);
    const refusedToo = await connection.createChannel();
    refusedToo.on("error", () => {});
    await rejectsWithClose(
      refusedToo.consume("exclusive", () => {}, { exclusive: true }),
      403,
      text,
    );
    await plain.close();

    // The connection serves on: with nobody consuming, B's exclusive consumer is accepted and gets the message.
    await waitFor(() => queueOn(a, "exclusive")?.consumerCount === 0);
    const channel = await connection.createChannel();
    const got: string[] = [];
    await channel.consume("exclusive", (msg) => msg && got.push(msg.content.toString()), {
      exclusive: true,
      noAck: true,
    });
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ["q0"]);
    await connection.close();
  });
});
