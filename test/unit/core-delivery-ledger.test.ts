import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DeliveryLedger, type Delivery, type LedgerConsumer } from "../../src/core/delivery-ledger.js";
import { Message } from "../../src/core/message.js";
import type { Queue } from "../../src/core/queue.js";
import { VHost } from "../../src/core/vhost.js";

/**
 * The ledger over real core queues: a VHost with a queue (and a
 * dead-letter queue), messages taken with get(), deliveries tracked by tag.
 */
function setup(count: number): {
  vhost: VHost;
  queue: Queue;
  dead: Queue;
  ledger: DeliveryLedger;
  next: (consumer: LedgerConsumer | null) => Delivery;
} {
  const vhost = new VHost("/");
  const dead = vhost.declareQueue(
    "dead",
    { durable: false, autoDelete: false, exclusive: false, arguments: {} },
    false,
    0,
  ).queue;
  const queue = vhost.declareQueue(
    "q",
    {
      durable: false,
      autoDelete: false,
      exclusive: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead" },
    },
    false,
    0,
  ).queue;
  const exchange = vhost.getExchange("");
  for (let i = 1; i <= count; i++) vhost.publish(exchange, new Message("", "q", {}, Buffer.from(`m${i}`)));
  const ledger = new DeliveryLedger();
  let tag = 0;
  const next = (consumer: LedgerConsumer | null): Delivery => {
    const queued = queue.get(false);
    assert.ok(queued, "the queue has a message to hand out");
    const entry: Delivery = { tag: ++tag, queue, queued, consumer };
    ledger.track(entry);
    return entry;
  };
  return { vhost, queue, dead, ledger, next };
}

const bodies = (queue: Queue): string[] => [...queue.readyMessages()].map((q) => q.message.body.toString());
const consumerOf = (queue: Queue, prefetch = 0): LedgerConsumer => ({ queue, unacked: 0, prefetch });

describe("DeliveryLedger", () => {
  test("ack removes the message from its queue and gives the consumer's prefetch slot back", () => {
    const { queue, ledger, next } = setup(2);
    const consumer = consumerOf(queue, 1);
    const entry = next(consumer);
    assert.equal(consumer.unacked, 1);
    assert.equal(ledger.hasRoomFor(consumer), false);
    ledger.settle(ledger.take(entry.tag) as Delivery, "ack");
    assert.equal(consumer.unacked, 0);
    assert.equal(ledger.hasRoomFor(consumer), true);
    assert.equal(queue.unackedCount, 0);
    assert.deepEqual(bodies(queue), ["m2"]);
  });

  test("requeue puts the message back at its place, marked redelivered", () => {
    const { queue, ledger, next } = setup(3);
    const entry = next(consumerOf(queue));
    ledger.settle(ledger.take(entry.tag) as Delivery, "requeue");
    assert.deepEqual(bodies(queue), ["m1", "m2", "m3"]);
    assert.equal(queue.peekHead()?.redelivered, true);
    assert.equal(queue.unackedCount, 0);
  });

  test("discard drops the message; with a dead-letter exchange it is dead-lettered", () => {
    const { queue, dead, ledger, next } = setup(2);
    const entry = next(consumerOf(queue));
    ledger.settle(ledger.take(entry.tag) as Delivery, "discard");
    assert.deepEqual(bodies(queue), ["m2"]);
    assert.deepEqual(bodies(dead), ["m1"]);
    const headers = dead.peekHead()?.message.properties.headers ?? {};
    assert.ok(Array.isArray(headers["x-death"]), "x-death header added by dead-lettering");
  });

  test("takeUpTo takes every delivery up to the tag, oldest first; 0 takes all", () => {
    const { queue, ledger, next } = setup(5);
    const consumer = consumerOf(queue);
    for (let i = 0; i < 5; i++) next(consumer);
    assert.deepEqual(
      ledger.takeUpTo(3).map((e) => e.tag),
      [1, 2, 3],
    );
    assert.deepEqual(
      [...ledger.values()].map((e) => e.tag),
      [4, 5],
    );
    // taken but not settled: still counted against prefetch
    assert.equal(consumer.unacked, 5);
    assert.deepEqual(
      ledger.takeUpTo(0).map((e) => e.tag),
      [4, 5],
    );
    assert.equal(ledger.size, 0);
  });

  test("takeUpTo with a filter leaves other consumers' deliveries (STOMP client-mode ACK)", () => {
    const { queue, ledger, next } = setup(4);
    const a = consumerOf(queue);
    const b = consumerOf(queue);
    next(a);
    next(b);
    next(a);
    next(b);
    const taken = ledger.takeUpTo(3, (e) => e.consumer === a);
    assert.deepEqual(
      taken.map((e) => e.tag),
      [1, 3],
    );
    ledger.settleAll(taken, "ack");
    assert.equal(a.unacked, 0);
    assert.equal(b.unacked, 2);
    assert.deepEqual(
      [...ledger.values()].map((e) => e.tag),
      [2, 4],
    );
  });

  test("prefetch per consumer and shared: each consumer's own limit, and one limit over all", () => {
    const { queue, ledger, next } = setup(6);
    const a = consumerOf(queue, 2);
    const b = consumerOf(queue, 0);
    ledger.sharedPrefetch = 3;
    next(a);
    next(a);
    assert.equal(ledger.hasRoomFor(a), false, "a is at its own prefetch");
    assert.equal(ledger.hasRoomFor(b), true);
    next(b);
    assert.equal(ledger.held, 3);
    assert.equal(ledger.hasRoomFor(b), false, "the shared prefetch is used up");
    ledger.settle(ledger.take(1) as Delivery, "ack");
    assert.equal(ledger.hasRoomFor(b), true);
    assert.equal(ledger.hasRoomFor(a), true);
  });

  test("a delivery without a consumer (basic.get) counts against no prefetch", () => {
    const { queue, ledger, next } = setup(2);
    ledger.sharedPrefetch = 1;
    const consumer = consumerOf(queue, 1);
    next(null);
    assert.equal(ledger.held, 0);
    assert.equal(ledger.hasRoomFor(consumer), true);
    ledger.settle(ledger.take(1) as Delivery, "ack");
    assert.equal(queue.unackedCount, 0);
  });

  test("requeueAll on close puts every delivery back in the original order, newest first", () => {
    const { queue, ledger, next } = setup(5);
    const consumer = consumerOf(queue);
    for (let i = 0; i < 4; i++) next(consumer);
    const requeued: string[] = [];
    const original = queue.requeue.bind(queue);
    queue.requeue = (queued) => {
      requeued.push(queued.message.body.toString());
      original(queued);
    };
    ledger.requeueAll();
    assert.deepEqual(requeued, ["m4", "m3", "m2", "m1"]);
    assert.deepEqual(bodies(queue), ["m1", "m2", "m3", "m4", "m5"]);
    assert.equal(consumer.unacked, 0);
    assert.equal(ledger.size, 0);
  });

  test("requeueAll with a filter requeues one subscription's deliveries only", () => {
    const { queue, ledger, next } = setup(4);
    const a = consumerOf(queue);
    const b = consumerOf(queue);
    next(a);
    next(b);
    next(a);
    ledger.requeueAll((e) => e.consumer === a);
    assert.deepEqual(bodies(queue), ["m1", "m3", "m4"]);
    assert.deepEqual(
      [...ledger.values()].map((e) => e.tag),
      [2],
    );
    assert.equal(b.unacked, 1);
  });

  test("restore puts taken deliveries back in tag order (tx.rollback)", () => {
    const { queue, ledger, next } = setup(4);
    const consumer = consumerOf(queue);
    for (let i = 0; i < 4; i++) next(consumer);
    const taken = [ledger.take(3) as Delivery, ledger.take(1) as Delivery];
    ledger.restore(taken);
    assert.deepEqual(
      [...ledger.values()].map((e) => e.tag),
      [1, 2, 3, 4],
    );
    assert.equal(consumer.unacked, 4);
  });

  test("settleMessage acks the queue but keeps the shared slot until release (MQTT QoS 2: PUBREC, then PUBCOMP)", () => {
    const { queue, ledger, next } = setup(2);
    const consumer = consumerOf(queue);
    ledger.sharedPrefetch = 1;
    const entry = next(consumer);
    ledger.settleMessage(ledger.take(entry.tag) as Delivery, "ack");
    assert.equal(queue.unackedCount, 0);
    assert.equal(ledger.size, 0);
    assert.equal(ledger.held, 1);
    assert.equal(ledger.hasRoomFor(consumer), false);
    ledger.release(entry);
    assert.equal(ledger.held, 0);
    assert.equal(consumer.unacked, 0);
    assert.equal(ledger.hasRoomFor(consumer), true);
    assert.deepEqual(bodies(queue), ["m2"]);
  });

  test("forget drops deliveries of a deleted queue and gives the counts back", () => {
    const { vhost, queue, ledger, next } = setup(2);
    const consumer = consumerOf(queue, 1);
    ledger.sharedPrefetch = 1;
    next(consumer);
    vhost.removeQueue(queue);
    ledger.forget((e) => e.queue === queue);
    assert.equal(consumer.unacked, 0);
    assert.equal(ledger.held, 0);
    assert.equal(ledger.size, 0);
  });
});
