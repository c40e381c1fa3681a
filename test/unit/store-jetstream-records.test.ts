/**
 * The JetStream message log's records (src/store/jetstream/log-records.ts)
 * against a real nats-server: a queue's publishes, deliveries and acks of
 * one turn share one batch record, acked messages leave by a purge of the
 * queue's subject, and a new owner (openQueue, as after a failover) reads
 * back exactly the live messages, delivered ones redelivered. Streams
 * written before batch records (one message per record, marks, deletes)
 * still read.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { ClusterConnection } from "../../src/cluster/nats-connection.js";
import type { JetStreamStore } from "../../src/store/jetstream/jetstream-store.js";
import { encodeMessageRecord } from "../../src/store/jetstream/message-record.js";
import { partitionOf, toToken } from "../../src/store/jetstream/subject-token.js";
import type { StoredMessage } from "../../src/store/types.js";
import { skipWithout } from "../helpers/binaries.js";
import { NATS_PACKAGE, NATS_SERVER, startNatsCluster, type NatsCluster } from "../helpers/nats-cluster.js";
import { codec, openJetStreamStore } from "../helpers/store-implementations.js";

const PARTITIONS = 8;
const QUEUE = "/\u0000orders";

const message = (body: string): StoredMessage => ({
  exchange: "",
  routingKey: "orders",
  properties: { deliveryMode: 2 },
  encodedProperties: null,
  body: Buffer.from(body),
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Node {
  store: JetStreamStore;
  connection: ClusterConnection;
  close(): Promise<void>;
}

describe("JetStream message log records", { skip: skipWithout(NATS_SERVER, NATS_PACKAGE, "needs nats-server") }, () => {
  let nats: NatsCluster;
  let prefixes = 0;
  const open: Node[] = [];

  before(async () => {
    nats = await startNatsCluster(1);
  });
  after(async () => {
    for (const node of open) await node.close().catch(() => undefined);
    await nats.stop();
  });

  /** A node's store over `prefix`, reading queues only when it opens them (a cluster owner). */
  async function node(prefix: string): Promise<Node> {
    const { connection, store } = await openJetStreamStore(nats.urls, {
      nodeName: `n${open.length}`,
      prefix,
      partitions: PARTITIONS,
      recoverAll: false,
    });
    const entry: Node = {
      store,
      connection,
      close: async () => {
        await store.close();
        await connection.close();
      },
    };
    open.push(entry);
    return entry;
  }

  const synced = (store: JetStreamStore): Promise<void> =>
    new Promise((resolve, reject) => store.messages.afterSync((error) => (error ? reject(error) : resolve())));

  const streamOf = (prefix: string): string => `${prefix.toUpperCase()}_MSG_${partitionOf(QUEUE, PARTITIONS)}`;
  const subjectOf = (prefix: string): string => `${prefix}.msg.${partitionOf(QUEUE, PARTITIONS)}.${toToken(QUEUE)}`;

  /** JetStream messages the queue's subject holds now. */
  async function storedCount(jsm: JetStreamManager, prefix: string): Promise<number> {
    const info = await jsm.streams.info(streamOf(prefix), { subjects_filter: `${subjectOf(prefix)}.>` });
    return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
  }

  /** Purges run on a timer (at most every 250 ms per queue): wait for the count, with a generous deadline. */
  async function untilStored(jsm: JetStreamManager, prefix: string, expected: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    let count = await storedCount(jsm, prefix);
    while (count !== expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      count = await storedCount(jsm, prefix);
    }
    assert.equal(count, expected, `the queue's subject holds ${count} JetStream messages`);
  }

  test("publishes and acks of one turn share one batch record; a new owner resurrects none of the acked", async () => {
    const prefix = `records${++prefixes}`;
    const owner = await node(prefix);
    const log = owner.store.messages;
    const first = Array.from({ length: 100 }, (_, i) => log.enqueue(QUEUE, message(`a${i}`), Date.now()));
    await synced(owner.store);
    for (const id of first) log.delivered(id);
    await turn();
    // Acks of the first 100 and 100 new messages in one turn: their acks ride in the new batch record.
    for (const id of first) log.remove(id);
    const second = Array.from({ length: 100 }, (_, i) => log.enqueue(QUEUE, message(`b${i}`), Date.now()));
    await synced(owner.store);
    for (const id of second.slice(0, 60)) log.delivered(id);
    await turn();
    for (const id of second.slice(0, 50)) log.remove(id);
    await owner.store.messages.settled();
    // The owner is gone without a word (its connection closed, as a kill -9 drops it).
    await owner.connection.close();

    const taker = await node(prefix);
    const queue = await taker.store.messages.openQueue(QUEUE);
    const back = taker.store.messages.read(queue.ids);
    assert.deepEqual(
      back.map((m) => m.body.toString()),
      Array.from({ length: 50 }, (_, i) => `b${i + 50}`),
    );
    // Delivered and never acked: b50..b59 come back redelivered, the rest as fresh.
    assert.deepEqual(
      back.map((m) => m.redelivered),
      Array.from({ length: 50 }, (_, i) => i < 10),
    );
    // The new owner's acks of recovered messages are recorded too: a third owner finds nothing, and the
    // subject is purged down to that last record (the stream does not grow with acked messages; the newest
    // record stays as the anchor of the owner chain, owner-chain.ts).
    for (const id of queue.ids) taker.store.messages.remove(id);
    await taker.store.messages.settled();
    await untilStored(taker.connection.jsm, prefix, 1);
    await taker.connection.close();
    const third = await node(prefix);
    assert.deepEqual((await third.store.messages.openQueue(QUEUE)).ids, []);
    await third.close();
  });

  test("a purge stops below the oldest unacked message: it and the rest of its batch survive a failover", async () => {
    const prefix = `records${++prefixes}`;
    const owner = await node(prefix);
    const log = owner.store.messages;
    const batchOne = Array.from({ length: 5 }, (_, i) => log.enqueue(QUEUE, message(`m${i + 1}`), Date.now()));
    await synced(owner.store);
    await turn();
    const batchTwo = Array.from({ length: 5 }, (_, i) => log.enqueue(QUEUE, message(`m${i + 6}`), Date.now()));
    await synced(owner.store);
    for (const id of [...batchOne, ...batchTwo]) log.delivered(id);
    await turn();
    // Everything acked but m8, the middle of the second batch.
    for (const id of [...batchOne, ...batchTwo]) if (id !== batchTwo[2]) log.remove(id);
    await log.settled();
    // Left: the second batch (holding m8) and the state records written after it; the first batch is purged.
    await untilStored(owner.connection.jsm, prefix, 3);
    await owner.connection.close();

    const taker = await node(prefix);
    const back = taker.store.messages.read((await taker.store.messages.openQueue(QUEUE)).ids);
    assert.deepEqual(
      back.map((m) => [m.body.toString(), m.redelivered]),
      [["m8", true]],
    );
    await taker.close();
  });

  test("a delivered message acked before its batch was acknowledged is recorded once the sequence is known", async () => {
    const prefix = `records${++prefixes}`;
    const owner = await node(prefix);
    const log = owner.store.messages;
    const ids = Array.from({ length: 4 }, (_, i) => log.enqueue(QUEUE, message(`e${i}`), Date.now()));
    // Still in this turn: nothing is written yet, so the delivery and the ack wait for the batch's sequence.
    log.delivered(ids[0] as number);
    log.delivered(ids[1] as number);
    log.remove(ids[1] as number);
    log.remove(ids[2] as number);
    await log.settled();
    await owner.connection.close();

    const taker = await node(prefix);
    const back = taker.store.messages.read((await taker.store.messages.openQueue(QUEUE)).ids);
    assert.deepEqual(
      back.map((m) => [m.body.toString(), m.redelivered]),
      [
        ["e0", true],
        ["e3", false],
      ],
    );
    await taker.close();
  });

  test("a stream written one message per record (marks as messages, acks as deletes) still reads", async () => {
    const prefix = `records${++prefixes}`;
    // The stream exists once a store opened over the prefix; then write as before batch records did.
    const writer = await node(prefix);
    const { js, jsm } = writer.connection;
    const subject = subjectOf(prefix);
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { record } = encodeMessageRecord(i + 1, message(`old${i}`), Date.now(), codec);
      seqs.push((await js.publish(`${subject}.m`, record)).seq);
    }
    const mark = await js.publish(`${subject}.d`, String(seqs[1]));
    await js.publish(`${subject}.d`, String(seqs[2]));
    await jsm.streams.deleteMessage(streamOf(prefix), seqs[2] as number, false);
    await jsm.streams.deleteMessage(streamOf(prefix), seqs[0] as number, false);
    assert.ok(mark.seq > 0);

    const taker = await node(prefix);
    const queue = await taker.store.messages.openQueue(QUEUE);
    const back = taker.store.messages.read(queue.ids);
    assert.deepEqual(
      back.map((m) => [m.body.toString(), m.redelivered]),
      [
        ["old1", true],
        ["old3", false],
      ],
    );
    // Acked with the new records, old messages leave the stream as new ones do (all but the record of
    // those acks: the owner chain's anchor).
    for (const id of queue.ids) taker.store.messages.remove(id);
    await taker.store.messages.settled();
    await untilStored(jsm, prefix, 1);
    await taker.close();
    await writer.close();
  });
  const syncError = (store: JetStreamStore): Promise<Error | null> =>
    new Promise((resolve) => store.messages.afterSync(resolve));

  test("an owner that lost its queue without noticing cannot write after the takeover: its confirm is a refusal", async () => {
    const prefix = `records${++prefixes}`;
    const stale = await node(prefix);
    const staleLog = stale.store.messages;
    const told: string[] = [];
    staleLog.onStaleOwner((key) => told.push(key));
    await staleLog.openQueue(QUEUE);
    const before = staleLog.enqueue(QUEUE, message("before"), Date.now());
    assert.equal(await syncError(stale.store), null);
    staleLog.delivered(before);
    await turn();

    // Another node takes the queue over while the first one is paused past its fence (it still thinks it
    // owns the queue): the lease moved, the stale owner has not seen it.
    const taker = await node(prefix);
    const taken = await taker.store.messages.openQueue(QUEUE);
    assert.deepEqual(
      taker.store.messages.read(taken.ids).map((m) => [m.body.toString(), m.redelivered]),
      [["before", true]],
    );

    // The stale owner wakes up and writes: JetStream refuses it, so no confirm goes out for it.
    staleLog.enqueue(QUEUE, message("stale"), Date.now());
    const refused = await syncError(stale.store);
    assert.ok(refused !== null, "the stale owner's write was confirmed");
    assert.equal(refused.name, "StaleOwnerError");
    assert.match(refused.message, /queue taken over by another node \(JetStream: wrong last sequence: \d+\)/);
    assert.deepEqual(told, [QUEUE]);
    // Its later writes are refused at once, acks too (they would belong to the new owner's deliveries).
    staleLog.remove(before);
    staleLog.enqueue(QUEUE, message("stale again"), Date.now());
    assert.equal((await syncError(stale.store))?.name, "StaleOwnerError");

    // The new owner writes on; a third owner finds its messages and none of the stale owner's.
    taker.store.messages.enqueue(QUEUE, message("after"), Date.now());
    assert.equal(await syncError(taker.store), null);
    await taker.store.messages.settled();
    await stale.close();
    await taker.connection.close();
    const third = await node(prefix);
    const back = third.store.messages.read((await third.store.messages.openQueue(QUEUE)).ids);
    assert.deepEqual(
      back.map((m) => [m.body.toString(), m.redelivered]),
      [
        ["before", true],
        ["after", false],
      ],
    );
    await third.close();
  });

  test("a write of the old owner that lands after the takeover read makes the new owner read again", async () => {
    const prefix = `records${++prefixes}`;
    const old = await node(prefix);
    await old.store.messages.openQueue(QUEUE);
    old.store.messages.enqueue(QUEUE, message("one"), Date.now());
    assert.equal(await syncError(old.store), null);
    const taker = await node(prefix);
    const { publisher } = taker.store.messages;
    // The old owner's write lands between the new owner's read and its first write (the takeover record).
    let injected = false;
    const realPublish = publisher.publish.bind(publisher);
    publisher.publish = (...args: Parameters<typeof publisher.publish>) => {
      if (injected) return realPublish(...args);
      injected = true;
      old.store.messages.enqueue(QUEUE, message("two"), Date.now());
      void syncError(old.store).then((error) => {
        assert.equal(error, null);
        realPublish(...args);
      });
    };
    const taken = await taker.store.messages.openQueue(QUEUE);
    assert.ok(injected);
    // "two" was confirmed to the old owner's client: the takeover read it on its second try.
    assert.deepEqual(
      taker.store.messages.read(taken.ids).map((m) => m.body.toString()),
      ["one", "two"],
    );
    await old.close();
    await taker.close();
  });
});
