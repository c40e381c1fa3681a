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

/** Runs `body` on a broker over a fresh data dir whose fdatasync `sync` controls; returns the dir. */
async function withHeldSyncBroker(
  name: string,
  body: (broker: TestBroker, publisher: Publisher, sync: SyncSwitch, dir: string) => Promise<void>,
): Promise<string> {
  const dir = await dataDirs.fresh(name);
  const sync = new SyncSwitch();
  await withBrokerOn(
    dir,
    async (broker) => {
      const publisher = await Publisher.open(broker);
      try {
        await body(broker, publisher, sync, dir);
      } finally {
        await publisher.close();
      }
    },
    { segmentLog: { sync: sync.sync } },
  );
  return dir;
}

interface StagedCase {
  /** Where the staged message goes. */
  exchange: string;
  routingKey: string;
  body: string;
  consumer: { connection: Connection; channel: Channel; received: string[] };
  /** The consumer has done what the case is about (acked, nacked, rejected, or just received). */
  consumerDone: () => boolean;
  /** A queue to check for the round trips. */
  queue: string;
  why: string;
}

/**
 * With a group commit's sync held: the staged message is published, the
 * consumer does its part, the broker has handled that (round trips on both
 * connections) and sent no confirm; once the sync goes, the confirm comes
 * and the message is in the log's files.
 */
async function assertConfirmedOnlyWithSync(
  publisher: Publisher,
  sync: SyncSwitch,
  dir: string,
  c: StagedCase,
): Promise<void> {
  const confirmed = publisher.publish(c.exchange, c.routingKey, c.body);
  await waitFor(c.consumerDone, WAIT_MS);
  await c.consumer.channel.checkQueue(c.queue);
  await publisher.settle(c.queue);
  assert.equal(publisher.answers.get(c.body), undefined, c.why);
  sync.release();
  assert.equal(await confirmed, "ack");
  assert.ok(segmentText(dir).includes(c.body), "on disk when confirmed");
  await c.consumer.connection.close();
}

test(
  "a message consumed and acked before its group commit is confirmed at the ack, never written, and gone after a restart",
  { timeout: 120_000 },
  async () => {
    const bodies = ["staged-acked-1", "staged-acked-2", "staged-acked-3"];
    const dir = await withHeldSyncBroker("acked", async (broker, publisher, sync) => {
      await publisher.channel.assertQueue("acked", { durable: true });
      const consumer = await consume(broker, "acked", (channel, message) => channel.ack(message));
      await holdASync(sync, publisher, "acked", "first-acked-0");
      const answers = await Promise.all(bodies.map((body) => publisher.publish("", "acked", body)));
      assert.deepEqual(answers, ["ack", "ack", "ack"]);
      assert.ok(sync.holding > 0, "confirmed while the group commit's sync is still held");
      assert.deepEqual(consumer.received.slice(-3), bodies);
      sync.release();
      await consumer.connection.close();
    });
    // The broker stopped cleanly (the log wrote and synced everything it had): they were dropped, not held back.
    const written = segmentText(dir);
    assert.ok(written.includes("first-acked-0"), "the message whose group commit had started was written");
    for (const body of bodies) assert.ok(!written.includes(body), `${body} was never written`);
    const back = await withBrokerOn(dir, (broker) => drainQueueAt(broker.url, "acked"));
    assert.deepEqual(back, [], "consumed messages do not come back");
  },
);

test("a message delivered but not acked is written and synced before its confirm", { timeout: 120_000 }, async () => {
  const dir = await withHeldSyncBroker("unacked", async (broker, publisher, sync, dir) => {
    await publisher.channel.assertQueue("unacked", { durable: true });
    const consumer = await consume(broker, "unacked", () => {});
    await holdASync(sync, publisher, "unacked", "first-unacked-0");
    await assertConfirmedOnlyWithSync(publisher, sync, dir, {
      exchange: "",
      routingKey: "unacked",
      body: "staged-unacked-1",
      consumer,
      consumerDone: () => consumer.received.includes("staged-unacked-1"),
      queue: "unacked",
      why: "no confirm while it is unacked and unsynced",
    });
  });
  const back = await withBrokerOn(dir, (broker) => drainQueueAt(broker.url, "unacked"));
  assert.ok(back.includes("staged-unacked-1"), `the unacked message survives: ${JSON.stringify(back)}`);
});

test(
  "a message routed to two queues and acked on one is written and synced before its confirm",
  { timeout: 120_000 },
  async () => {
    const dir = await withHeldSyncBroker("two-queues", async (broker, publisher, sync, dir) => {
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
      await assertConfirmedOnlyWithSync(publisher, sync, dir, {
        exchange: "both",
        routingKey: "",
        body: "staged-both-1",
        consumer,
        consumerDone: () => consumer.received.includes("staged-both-1"),
        queue: "kept-here",
        why: "no confirm while another queue holds it unsynced",
      });
    });
    const kept = await withBrokerOn(dir, (broker) => drainQueueAt(broker.url, "kept-here"));
    assert.deepEqual(kept, ["first-both-0", "staged-both-1"]);
  },
);

test(
  "a message requeued before it was written (nack requeue=true) is written and synced before its confirm",
  { timeout: 120_000 },
  async () => {
    const dir = await withHeldSyncBroker("requeued", async (broker, publisher, sync, dir) => {
      await publisher.channel.assertQueue("requeued", { durable: true });
      let nacks = 0;
      // The first delivery of the staged message goes back; the redelivery stays unacked (and is requeued at close).
      const consumer = await consume(broker, "requeued", (channel, message) => {
        if (message.content.toString() === "staged-requeued-1" && nacks++ === 0) channel.nack(message, false, true);
      });
      await holdASync(sync, publisher, "requeued", "first-requeued-0");
      await assertConfirmedOnlyWithSync(publisher, sync, dir, {
        exchange: "",
        routingKey: "requeued",
        body: "staged-requeued-1",
        consumer,
        consumerDone: () => consumer.received.filter((b) => b === "staged-requeued-1").length === 2,
        queue: "requeued",
        why: "no confirm for a requeued message before its sync",
      });
    });
    const back = await withBrokerOn(dir, (broker) => drainQueueAt(broker.url, "requeued"));
    assert.ok(back.includes("staged-requeued-1"), `the requeued message survives: ${JSON.stringify(back)}`);
  },
);

test(
  "a message rejected into a dead-letter queue before its group commit is confirmed only with the sync",
  { timeout: 120_000 },
  async () => {
    const dir = await withHeldSyncBroker("dead-lettered", async (broker, publisher, sync, dir) => {
      const ch = publisher.channel;
      await ch.assertQueue("dead", { durable: true });
      await ch.assertQueue("rejecting", {
        durable: true,
        arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead" },
      });
      const consumer = await consume(broker, "rejecting", (channel, message) => channel.reject(message, false));
      await holdASync(sync, publisher, "rejecting", "first-rejected-0");
      await assertConfirmedOnlyWithSync(publisher, sync, dir, {
        exchange: "",
        routingKey: "rejecting",
        body: "staged-rejected-1",
        consumer,
        consumerDone: () => consumer.received.includes("staged-rejected-1"),
        queue: "dead",
        why: "a reject is not a consumption",
      });
    });
    const dead = await withBrokerOn(dir, (broker) => drainQueueAt(broker.url, "dead"));
    assert.ok(dead.includes("staged-rejected-1"), `the dead-lettered copy survives: ${JSON.stringify(dead)}`);
  },
);

test("tx.commit-ok still waits for the sync, even when its messages were consumed", { timeout: 120_000 }, async () => {
  await withHeldSyncBroker("tx", async (broker, publisher, sync) => {
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
  });
});

test(
  "a reject-publish nack while an earlier confirm waits for its sync does not stop later confirms",
  { timeout: 120_000 },
  async () => {
    await withHeldSyncBroker("nack-order", async (broker, publisher, sync) => {
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
      assert.deepEqual(await drainQueueAt(broker.url, "kept"), ["kept-1", "kept-3", "kept-4"]);
    });
  },
);
