/**
 * Issue 10, definitions: declared on one Warren node, usable on another
 * within a second (amqplib and the HTTP API), kept across a restart of every
 * Warren node, and answered only once the replicated write is acknowledged.
 * Three clustered nats-servers (R3), two Warren nodes as child processes.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqp from "amqplib";
import { skipWithout } from "../../helpers/binaries.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { eventually, useCluster } from "../../helpers/cluster-nodes.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests run real nats-server processes");
const GUEST = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

async function queueExists(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    // A missing queue closes the channel with 404: checkQueue rejects, the 'error' event is expected.
    channel.on("error", () => {});
    await channel.checkQueue(queue);
  } finally {
    await connection.close().catch(() => {});
  }
}

describe("cluster definitions", { skip }, () => {
  const running = useCluster(3, 2);

  test("an exchange, queue and binding declared on w1 route a message published on w2 within a second", async () => {
    const c1 = await amqp.connect(running.cluster.node(0).amqpUrl);
    const ch1 = await c1.createChannel();
    await ch1.assertExchange("orders", "direct", { durable: true });
    await ch1.assertQueue("orders.eu", { durable: true });
    await ch1.bindQueue("orders.eu", "orders", "eu");
    await c1.close();

    const c2 = await amqp.connect(running.cluster.node(1).amqpUrl);
    try {
      const ms = await eventually(async () => {
        const probe = await c2.createChannel();
        await probe.checkExchange("orders");
        await probe.checkQueue("orders.eu");
        await probe.close();
      });
      process.stdout.write(`# definitions visible on w2 after ${ms} ms\n`);
      const ch2 = await c2.createConfirmChannel();
      // The binding arrives after the queue; poll until the publish is routed (mandatory returns it otherwise).
      await eventually(async () => {
        const returned = new Promise<boolean>((resolve) => {
          ch2.once("return", () => resolve(true));
          ch2.publish("orders", "eu", Buffer.from("hello"), { mandatory: true, persistent: true });
          void ch2.waitForConfirms().then(() => setTimeout(() => resolve(false), 50));
        });
        if (await returned) throw new Error("not routed yet");
      });
      // Consumed, not basic.get: the queue is owned by w1 and a non-owner answers basic.get with
      // get-empty for now (docs/cluster.md, "Not done yet"); a consumer on w2 is served by the owner.
      const got = await new Promise<string>((resolve) => {
        void ch2.consume("orders.eu", (msg) => msg && resolve(msg.content.toString()), { noAck: true });
      });
      assert.equal(got, "hello");
    } finally {
      await c2.close();
    }
  });

  test("a user and queue made over w2's HTTP API (201) are usable on w1", async () => {
    const put = (path: string, body: unknown): Promise<Response> =>
      fetch(`${running.cluster.node(1).httpUrl}${path}`, {
        method: "PUT",
        headers: { authorization: GUEST, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    assert.equal((await put("/api/users/alice", { password: "s3cret", tags: "" })).status, 201);
    assert.equal((await put("/api/permissions/%2F/alice", { configure: ".*", write: ".*", read: ".*" })).status, 201);
    assert.equal((await put("/api/queues/%2F/from-http", { durable: true })).status, 201);
    const url = running.cluster.node(0).amqpUrl.replace("guest:guest", "alice:s3cret");
    await eventually(() => queueExists(url, "from-http"));
  });

  test("a queue deleted on w1 is gone on w2", async () => {
    const c1 = await amqp.connect(running.cluster.node(0).amqpUrl);
    const ch1 = await c1.createChannel();
    await ch1.assertQueue("short-lived", { durable: true });
    await eventually(() => queueExists(running.cluster.node(1).amqpUrl, "short-lived"));
    await ch1.deleteQueue("short-lived");
    await c1.close();
    await eventually(async () => {
      const missing = await queueExists(running.cluster.node(1).amqpUrl, "short-lived").then(
        () => false,
        () => true,
      );
      if (!missing) throw new Error("still there");
    });
    // The node still serves clients after the 404 channel errors above.
    await queueExists(running.cluster.node(1).amqpUrl, "orders.eu");
  });

  test("after every Warren node is killed and restarted, the definitions are all there", async () => {
    await running.cluster.kill(0);
    await running.cluster.kill(1);
    await running.cluster.restart(0);
    await running.cluster.restart(1);
    for (const node of running.cluster.nodes) {
      await queueExists(node.amqpUrl, "orders.eu");
      await queueExists(node.amqpUrl.replace("guest:guest", "alice:s3cret"), "from-http");
    }
  });

  test("with NATS stopped a declare is not answered and publishers are blocked; both resume when NATS is back", async () => {
    const connection = await amqp.connect(running.cluster.node(0).amqpUrl);
    const events: string[] = [];
    connection.on("blocked", (reason: string) => events.push(`blocked: ${reason}`));
    connection.on("unblocked", () => events.push("unblocked"));
    // A node torn down after a failed assertion must not leave an unhandled 'error' behind.
    connection.on("error", () => undefined);
    const channel = await connection.createChannel();
    // All at once: killed one by one, the client could reconnect to the next in between (blocked, unblocked, ...).
    await Promise.all([running.nats.kill(0), running.nats.kill(1), running.nats.kill(2)]);
    const blocked = "blocked: cluster storage (NATS) unreachable";
    await eventually(async () => {
      if (events.at(-1) !== blocked) throw new Error("not blocked yet");
    });
    assert.equal(events[0], blocked);

    let answered = false;
    const declared = channel.assertQueue("while-nats-down", { durable: true }).then((ok) => {
      answered = true;
      return ok;
    });
    // No declare-ok while nothing can replicate it (2 s is ample for a local reply; NATS's own timeout is 5 s).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(answered, false);

    await Promise.all([running.nats.restart(0), running.nats.restart(1), running.nats.restart(2)]);
    const ok = await declared;
    assert.equal(ok.queue, "while-nats-down");
    await eventually(async () => {
      if (!events.includes("unblocked")) throw new Error("still blocked");
    });
    await connection.close();
    // Replicated: the other node has it too.
    await eventually(() => queueExists(running.cluster.node(1).amqpUrl, "while-nats-down"));
  });
});
