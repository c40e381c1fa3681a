/**
 * Issue 15 §2: a persistent message consumed and acked on every queue
 * before its group commit is confirmed at the ack and never written, as
 * RabbitMQ does ("confirmed as soon as it is persisted to disk, or when it
 * is consumed on every queue"); anything still ready or delivered-unacked
 * somewhere is on disk before its confirm, as before. The disk is slow on
 * demand (SyncSwitch.hold: the real file store, its fdatasync held), so a
 * message published while a sync is held waits in the log, unwritten,
 * while the test looks at what was confirmed and what is in the files.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib, { type Channel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";
import { waitFor } from "../../helpers/broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { SyncSwitch } from "../../helpers/failing-sync.js";

const dataDirs = useDataDirs("warren-consumed-confirms");
const WAIT_MS = 30_000;

/** Everything the message log's segment files hold, as text. */
function segmentText(dir: string): string {
  const messages = join(dir, "messages");
  return readdirSync(messages)
    .filter((name) => name.endsWith(".seg"))
    .map((name) => readFileSync(join(messages, name)).toString("latin1"))
    .join("");
}

/** A publisher with confirms that records the answer each body got. */
type Connection = Awaited<ReturnType<typeof amqplib.connect>>;

class Publisher {
  readonly answers = new Map<string, "ack" | "nack">();
  private constructor(
    private readonly connection: Connection,
    readonly channel: ConfirmChannel,
  ) {}

  static async open(broker: TestBroker): Promise<Publisher> {
    const connection = await amqplib.connect(broker.url);
    return new Publisher(connection, await connection.createConfirmChannel());
  }

  publish(exchange: string, routingKey: string, body: string): Promise<"ack" | "nack"> {
    return new Promise((resolve) =>
      this.channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true }, (error) => {
        const answer = error ? "nack" : "ack";
        this.answers.set(body, answer);
        resolve(answer);
      }),
    );
  }

  /** A round trip: every confirm the broker sent before it has been seen. */
  async settle(queue: string): Promise<void> {
    await this.channel.checkQueue(queue);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** A consumer on its own connection; `onMessage` decides what happens to each delivery. */
async function consume(
  broker: TestBroker,
  queue: string,
  onMessage: (channel: Channel, message: ConsumeMessage) => void,
): Promise<{ connection: Connection; channel: Channel; received: string[] }> {
  const connection = await amqplib.connect(broker.url);
  const channel = await connection.createChannel();
  const received: string[] = [];
  await channel.consume(queue, (message) => {
    if (message === null) return;
    received.push(message.content.toString());
    onMessage(channel, message);
  });
  return { connection, channel, received };
}

/** Publishes `first` and waits until its group commit's fdatasync is held: what follows stays in the log unwritten. */
async function holdASync(sync: SyncSwitch, publisher: Publisher, queue: string, first: string): Promise<void> {
  sync.hold();
  void publisher.publish("", queue, first);
  await waitFor(() => sync.holding > 0, WAIT_MS);
}

test(
  "a message consumed and acked before its group commit is confirmed at the ack, never written, and gone after a restart",
  { timeout: 120_000 },
  async () => {
    const dir = await dataDirs.fresh("acked");
    const sync = new SyncSwitch();
    await withBrokerOn(
      dir,
      async (broker) => {
        const publisher = await Publisher.open(broker);
        await publisher.channel.assertQueue("acked", { durable: true });
        const consumer = await consume(broker, "acked", (channel, message) => channel.ack(message));
        await holdASync(sync, publisher, "acked", "first-acked-0");
        const bodies = ["staged-acked-1", "staged-acked-2", "staged-acked-3"];
        const answers = await Promise.all(bodies.map((body) => publisher.publish("", "acked", body)));
        assert.deepEqual(answers, ["ack", "ack", "ack"]);
        assert.ok(sync.holding > 0, "confirmed while the group commit's sync is still held");
        assert.deepEqual(consumer.received.slice(-3), bodies);
        sync.release();
        await publisher.close();
        await consumer.connection.close();
      },
      { segmentLog: { sync: sync.sync } },
    );
    // The broker stopped cleanly (the log wrote and synced everything it had): they were dropped, not held back.
    const written = segmentText(dir);
    assert.ok(written.includes("first-acked-0"), "the message whose group commit had started was written");
    for (const body of ["staged-acked-1", "staged-acked-2", "staged-acked-3"])
      assert.ok(!written.includes(body), `${body} was never written`);
    await withBrokerOn(dir, async (broker) => {
      assert.deepEqual(await drainQueueAt(broker.url, "acked"), [], "consumed messages do not come back");
    });
  },
);

test("a message delivered but not acked is written and synced before its confirm", { timeout: 120_000 }, async () => {
  const dir = await dataDirs.fresh("unacked");
  const sync = new SyncSwitch();
  await withBrokerOn(
    dir,
    async (broker) => {
      const publisher = await Publisher.open(broker);
      await publisher.channel.assertQueue("unacked", { durable: true });
      const consumer = await consume(broker, "unacked", () => {});
      await holdASync(sync, publisher, "unacked", "first-unacked-0");
      const confirmed = publisher.publish("", "unacked", "staged-unacked-1");
      await waitFor(() => consumer.received.includes("staged-unacked-1"), WAIT_MS);
      await consumer.channel.checkQueue("unacked");
      await publisher.settle("unacked");
      assert.equal(publisher.answers.get("staged-unacked-1"), undefined, "no confirm while it is unacked and unsynced");
      sync.release();
      assert.equal(await confirmed, "ack");
      assert.ok(segmentText(dir).includes("staged-unacked-1"), "on disk when confirmed");
      await consumer.connection.close();
      await publisher.close();
    },
    { segmentLog: { sync: sync.sync } },
  );
  await withBrokerOn(dir, async (broker) => {
    const back = await drainQueueAt(broker.url, "unacked");
    assert.ok(back.includes("staged-unacked-1"), `the unacked message survives: ${JSON.stringify(back)}`);
  });
});

test(
  "a message routed to two queues and acked on one is written and synced before its confirm",
  { timeout: 120_000 },
  async () => {
    const dir = await dataDirs.fresh("two-queues");
    const sync = new SyncSwitch();
    await withBrokerOn(
      dir,
      async (broker) => {
        const publisher = await Publisher.open(broker);
        const ch = publisher.channel;
        await ch.assertExchange("both", "fanout", { durable: true });
        for (const queue of ["consumed-here", "kept-here"]) {
          await ch.assertQueue(queue, { durable: true });
          await ch.bindQueue(queue, "both", "");
        }
        const consumer = await consume(broker, "consumed-here", (channel, message) => channel.ack(message));
        sync.hold();
        void publisher.publish("both", "", "first-both-0");
        await waitFor(() => sync.holding > 0, WAIT_MS);
        const confirmed = publisher.publish("both", "", "staged-both-1");
        await waitFor(() => consumer.received.includes("staged-both-1"), WAIT_MS);
        await consumer.channel.checkQueue("consumed-here");
        await publisher.settle("kept-here");
        assert.equal(
          publisher.answers.get("staged-both-1"),
          undefined,
          "no confirm while another queue holds it unsynced",
        );
        sync.release();
        assert.equal(await confirmed, "ack");
        assert.ok(segmentText(dir).includes("staged-both-1"), "on disk when confirmed");
        await consumer.connection.close();
        await publisher.close();
      },
      { segmentLog: { sync: sync.sync } },
    );
    await withBrokerOn(dir, async (broker) => {
      const kept = await drainQueueAt(broker.url, "kept-here");
      assert.deepEqual(kept, ["first-both-0", "staged-both-1"]);
    });
  },
);

test(
  "a message requeued before it was written (nack requeue=true) is written and synced before its confirm",
  { timeout: 120_000 },
  async () => {
    const dir = await dataDirs.fresh("requeued");
    const sync = new SyncSwitch();
    await withBrokerOn(
      dir,
      async (broker) => {
        const publisher = await Publisher.open(broker);
        await publisher.channel.assertQueue("requeued", { durable: true });
        let nacks = 0;
        // The first delivery of the staged message goes back; the redelivery stays unacked.
        const consumer = await consume(broker, "requeued", (channel, message) => {
          if (message.content.toString() === "staged-requeued-1" && nacks++ === 0) channel.nack(message, false, true);
        });
        await holdASync(sync, publisher, "requeued", "first-requeued-0");
        const confirmed = publisher.publish("", "requeued", "staged-requeued-1");
        await waitFor(() => consumer.received.filter((b) => b === "staged-requeued-1").length === 2, WAIT_MS);
        await consumer.channel.checkQueue("requeued");
        await publisher.settle("requeued");
        assert.equal(
          publisher.answers.get("staged-requeued-1"),
          undefined,
          "no confirm for a requeued message before its sync",
        );
        sync.release();
        assert.equal(await confirmed, "ack");
        assert.ok(segmentText(dir).includes("staged-requeued-1"), "on disk when confirmed");
        // The channel closes with it unacked: requeued again, still in the log.
        await consumer.connection.close();
        await publisher.close();
      },
      { segmentLog: { sync: sync.sync } },
    );
    await withBrokerOn(dir, async (broker) => {
      const back = await drainQueueAt(broker.url, "requeued");
      assert.ok(back.includes("staged-requeued-1"), `the requeued message survives: ${JSON.stringify(back)}`);
    });
  },
);

test(
  "a message rejected into a dead-letter queue before its group commit is confirmed only with the sync",
  { timeout: 120_000 },
  async () => {
    const dir = await dataDirs.fresh("dead-lettered");
    const sync = new SyncSwitch();
    await withBrokerOn(
      dir,
      async (broker) => {
        const publisher = await Publisher.open(broker);
        const ch = publisher.channel;
        await ch.assertQueue("dead", { durable: true });
        await ch.assertQueue("rejecting", {
          durable: true,
          arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead" },
        });
        const consumer = await consume(broker, "rejecting", (channel, message) => channel.reject(message, false));
        await holdASync(sync, publisher, "rejecting", "first-rejected-0");
        const confirmed = publisher.publish("", "rejecting", "staged-rejected-1");
        await waitFor(() => consumer.received.includes("staged-rejected-1"), WAIT_MS);
        await consumer.channel.checkQueue("rejecting");
        await publisher.settle("dead");
        assert.equal(publisher.answers.get("staged-rejected-1"), undefined, "a reject is not a consumption");
        sync.release();
        assert.equal(await confirmed, "ack");
        await consumer.connection.close();
        await publisher.close();
      },
      { segmentLog: { sync: sync.sync } },
    );
    await withBrokerOn(dir, async (broker) => {
      const dead = await drainQueueAt(broker.url, "dead");
      assert.ok(dead.includes("staged-rejected-1"), `the dead-lettered copy survives: ${JSON.stringify(dead)}`);
    });
  },
);

test("tx.commit-ok still waits for the sync, even when its messages were consumed", { timeout: 120_000 }, async () => {
  const dir = await dataDirs.fresh("tx");
  const sync = new SyncSwitch();
  await withBrokerOn(
    dir,
    async (broker) => {
      const publisher = await Publisher.open(broker);
      await publisher.channel.assertQueue("tx", { durable: true });
      const consumer = await consume(broker, "tx", (channel, message) => channel.ack(message));
      await holdASync(sync, publisher, "tx", "first-tx-0");
      // amqplib has no tx.* API (as in test/e2e/amqp/transactions.test.ts).
      const client = new AMQPClient(broker.url);
      await client.connect();
      const txChannel = await client.channel();
      await txChannel.txSelect();
      await txChannel.basicPublish("", "tx", "tx-body-1", { deliveryMode: 2 });
      let committed = false;
      const commit = txChannel.txCommit().then(() => {
        committed = true;
      });
      await waitFor(() => consumer.received.includes("tx-body-1"), WAIT_MS);
      await consumer.channel.checkQueue("tx");
      // A round trip on another channel of the same connection: a commit-ok sent before it has arrived.
      await (await client.channel()).queueDeclare("tx", { passive: true });
      assert.equal(committed, false, "no commit-ok while the sync is held");
      sync.release();
      await commit;
      await client.close();
      await consumer.connection.close();
      await publisher.close();
    },
    { segmentLog: { sync: sync.sync } },
  );
});

test(
  "a reject-publish nack while an earlier confirm waits for its sync does not stop later confirms",
  { timeout: 120_000 },
  async () => {
    const dir = await dataDirs.fresh("nack-order");
    const sync = new SyncSwitch();
    await withBrokerOn(
      dir,
      async (broker) => {
        const publisher = await Publisher.open(broker);
        const ch = publisher.channel;
        await ch.assertQueue("kept", { durable: true });
        await ch.assertQueue("full", { arguments: { "x-max-length": 0, "x-overflow": "reject-publish" } });
        await holdASync(sync, publisher, "kept", "kept-1");
        assert.equal(await publisher.publish("", "full", "refused-2"), "nack");
        const third = publisher.publish("", "kept", "kept-3");
        await publisher.settle("kept");
        assert.equal(publisher.answers.get("kept-1"), undefined);
        sync.release();
        assert.equal(await third, "ack");
        assert.equal(publisher.answers.get("kept-1"), "ack");
        // The broker still serves this channel and another client.
        assert.equal(await publisher.publish("", "kept", "kept-4"), "ack");
        await publisher.close();
        assert.deepEqual(await drainQueueAt(broker.url, "kept"), ["kept-1", "kept-3", "kept-4"]);
      },
      { segmentLog: { sync: sync.sync } },
    );
  },
);
