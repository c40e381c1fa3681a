import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib, { type Channel, type ConsumeMessage } from "amqplib";
import { nextError, openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { queuePolicy } from "../../helpers/policy.js";

// Expected texts were observed on RabbitMQ 3.10 (the reference node on 5673) with the same calls.

const warren = useBroker();
const STREAM = { "x-queue-type": "stream" };

async function withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
  const connection = await amqplib.connect(warren.broker.url);
  connection.on("error", () => {});
  try {
    return await use(await openChannel(connection));
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Publishes with confirms over a connection of its own. */
async function publishAll(queue: string, bodies: string[], headers: Record<string, unknown> = {}): Promise<void> {
  const connection = await amqplib.connect(warren.broker.url);
  try {
    const confirm = await connection.createConfirmChannel();
    for (const body of bodies) confirm.sendToQueue(queue, Buffer.from(body), { headers });
    await confirm.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** Consumes with prefetch `prefetch`, acking each delivery, until `count` arrived. */
async function consumeN(
  channel: Channel,
  queue: string,
  count: number,
  args: Record<string, unknown>,
  prefetch = 100,
): Promise<ConsumeMessage[]> {
  const got: ConsumeMessage[] = [];
  await channel.prefetch(prefetch);
  const { consumerTag } = await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      got.push(message);
      channel.ack(message);
    },
    { arguments: args },
  );
  await waitFor(() => got.length >= count);
  await channel.cancel(consumerTag);
  return got;
}

const offsetsOf = (messages: ConsumeMessage[]): number[] =>
  messages.map((m) => Number(m.properties.headers?.["x-stream-offset"]));
const bodiesOf = (messages: ConsumeMessage[]): string[] => messages.map((m) => m.content.toString());

test("a stream is durable only, and refuses the classic queue arguments with RabbitMQ's texts", async () => {
  const cases: Array<[string, amqplib.Options.AssertQueue, string]> = [
    ["s.nd", { durable: false, arguments: STREAM }, "invalid property 'non-durable' for queue 's.nd' in vhost '/'"],
    [
      "s.ex",
      { durable: true, exclusive: true, arguments: STREAM },
      "invalid property 'exclusive-owner' for queue 's.ex' in vhost '/'",
    ],
    [
      "s.ad",
      { durable: true, autoDelete: true, arguments: STREAM },
      "invalid property 'auto-delete' for queue 's.ad' in vhost '/'",
    ],
    [
      "s.ttl",
      { durable: true, arguments: { ...STREAM, "x-message-ttl": 5 } },
      "invalid arg 'x-message-ttl' for queue 's.ttl' in vhost '/' of queue type rabbit_stream_queue",
    ],
    [
      "s.len",
      { durable: true, arguments: { ...STREAM, "x-max-length": 5 } },
      "invalid arg 'x-max-length' for queue 's.len' in vhost '/' of queue type rabbit_stream_queue",
    ],
    [
      "s.sac",
      { durable: true, arguments: { ...STREAM, "x-single-active-consumer": true } },
      "invalid arg 'x-single-active-consumer' for queue 's.sac' in vhost '/' of queue type rabbit_stream_queue",
    ],
    [
      "s.age",
      { durable: true, arguments: { ...STREAM, "x-max-age": "7X" } },
      "invalid arg 'x-max-age' for queue 's.age' in vhost '/': invalid_max_age",
    ],
    [
      "s.seg",
      { durable: true, arguments: { ...STREAM, "x-stream-max-segment-size-bytes": -1 } },
      "invalid arg 'x-stream-max-segment-size-bytes' for queue 's.seg' in vhost '/': {value_negative,-1}",
    ],
    [
      "s.mlb",
      { durable: true, arguments: { ...STREAM, "x-max-length-bytes": -1 } },
      "invalid arg 'x-max-length-bytes' for queue 's.mlb' in vhost '/': {value_negative,-1}",
    ],
  ];
  for (const [name, options, text] of cases) {
    await withChannel((channel) =>
      rejectsWithClose(channel.assertQueue(name, options), 406, `PRECONDITION_FAILED - ${text}`),
    );
  }
  await withChannel(async (channel) => {
    const ok = await channel.assertQueue("s.ok", {
      durable: true,
      arguments: { ...STREAM, "x-max-age": "1h", "x-max-length-bytes": 100_000_000 },
    });
    assert.equal(ok.queue, "s.ok");
    await rejectsWithClose(
      channel.assertQueue("s.ok", {
        durable: true,
        arguments: { ...STREAM, "x-max-age": "2h", "x-max-length-bytes": 100_000_000 },
      }),
      406,
      "PRECONDITION_FAILED - inequivalent arg 'x-max-age' for queue 's.ok' in vhost '/': received '2h' but current is '1h'",
    );
  });
  await withChannel((channel) => channel.deleteQueue("s.ok"));
  await warren.broker.assertHealthy();
});

test("consuming needs basic.qos and manual acks; basic.get, purge and nack are refused as RabbitMQ 3.10 does", async () => {
  await withChannel((channel) => channel.assertQueue("s.rules", { durable: true, arguments: STREAM }));
  await withChannel((channel) =>
    rejectsWithClose(
      channel.consume("s.rules", () => {}),
      406,
      "PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 's.rules' in vhost '/''",
    ),
  );
  const connectionClose = async (act: (channel: Channel) => Promise<unknown>, text: string): Promise<void> => {
    const connection = await amqplib.connect(warren.broker.url);
    const closed = nextError(connection);
    const channel = await openChannel(connection);
    await channel.prefetch(10);
    await act(channel).catch(() => {});
    assert.deepEqual(await closed, { code: 540, text });
  };
  await connectionClose(
    (ch) => ch.consume("s.rules", () => {}, { noAck: true }),
    "NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 's.rules' in vhost '/'",
  );
  await connectionClose(
    (ch) => ch.get("s.rules"),
    "NOT_IMPLEMENTED - basic.get not supported by stream queues queue 's.rules' in vhost '/'",
  );
  await connectionClose(
    (ch) => ch.purgeQueue("s.rules"),
    "NOT_IMPLEMENTED - queue.purge not supported by stream queues queue 's.rules' in vhost '/'",
  );
  await publishAll("s.rules", ["a"]);
  await connectionClose(async (ch) => {
    const first = new Promise<ConsumeMessage>(
      (resolve) => void ch.consume("s.rules", (m) => m && resolve(m), { arguments: { "x-stream-offset": "first" } }),
    );
    ch.nack(await first);
  }, "NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 's.rules' in vhost '/'");
  await withChannel((channel) => channel.deleteQueue("s.rules"));
  await warren.broker.assertHealthy();
});

test("x-stream-offset: first, last, next, a number, a timestamp and an interval; each delivery says its offset", async () => {
  await withChannel(async (channel) => {
    await channel.assertQueue("s.offsets", { durable: true, arguments: STREAM });
    const before = Math.floor(Date.now() / 1000) - 1;
    // Two batches, so two chunks: "last" starts at the last chunk (here m4 alone).
    await publishAll("s.offsets", ["m0", "m1", "m2", "m3"], { kept: "yes" });
    await publishAll("s.offsets", ["m4"], { kept: "yes" });
    const first = await consumeN(channel, "s.offsets", 5, { "x-stream-offset": "first" });
    assert.deepEqual(bodiesOf(first), ["m0", "m1", "m2", "m3", "m4"]);
    assert.deepEqual(offsetsOf(first), [0, 1, 2, 3, 4]);
    assert.equal(first[0]?.properties.headers?.["kept"], "yes");
    assert.deepEqual(bodiesOf(await consumeN(channel, "s.offsets", 2, { "x-stream-offset": 3 })), ["m3", "m4"]);
    assert.deepEqual(bodiesOf(await consumeN(channel, "s.offsets", 1, { "x-stream-offset": "last" })), ["m4"]);
    assert.deepEqual(
      bodiesOf(await consumeN(channel, "s.offsets", 5, { "x-stream-offset": { "!": "timestamp", value: before } })),
      ["m0", "m1", "m2", "m3", "m4"],
    );
    assert.deepEqual(bodiesOf(await consumeN(channel, "s.offsets", 5, { "x-stream-offset": "10m" })), [
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
    ]);
    // A timestamp in the future and "next" both wait for what is published after.
    const got: ConsumeMessage[] = [];
    await channel.prefetch(10);
    await channel.consume("s.offsets", (m) => m && (got.push(m), channel.ack(m)), {
      arguments: { "x-stream-offset": "next" },
    });
    await publishAll("s.offsets", ["m5"]);
    await waitFor(() => got.length === 1);
    assert.deepEqual(offsetsOf(got), [5]);
    await channel.deleteQueue("s.offsets");
  });
});

test("a bad x-stream-offset closes the connection with 541, as RabbitMQ 3.10 does", async () => {
  await withChannel((channel) => channel.assertQueue("s.badoffset", { durable: true, arguments: STREAM }));
  const connection = await amqplib.connect(warren.broker.url);
  const closed = nextError(connection);
  const channel = await openChannel(connection);
  await channel.prefetch(1);
  await channel.consume("s.badoffset", () => {}, { arguments: { "x-stream-offset": "bogus" } }).catch(() => {});
  assert.deepEqual(await closed, { code: 541, text: "INTERNAL_ERROR - invalid x-stream-offset 'bogus'" });
  await withChannel((ch) => ch.deleteQueue("s.badoffset"));
  await warren.broker.assertHealthy();
});

test("acks are credit: a consumer holds at most its prefetch, and acked messages stay in the stream", async () => {
  await withChannel(async (channel) => {
    await channel.assertQueue("s.credit", { durable: true, arguments: STREAM });
    await publishAll("s.credit", ["a", "b", "c", "d"]);
    await channel.prefetch(2);
    const held: ConsumeMessage[] = [];
    await channel.consume("s.credit", (m) => m && held.push(m), { arguments: { "x-stream-offset": "first" } });
    await waitFor(() => held.length === 2);
    // No more without an ack: a round trip to the broker lets any stray delivery arrive first.
    await channel.checkQueue("s.credit");
    assert.equal(held.length, 2);
    channel.ack(held[1] as ConsumeMessage, true);
    await waitFor(() => held.length === 4);
    channel.ackAll();
    const again = await consumeN(channel, "s.credit", 4, { "x-stream-offset": "first" });
    assert.deepEqual(bodiesOf(again), ["a", "b", "c", "d"]);
    await channel.deleteQueue("s.credit");
  });
});

test("filtering: x-stream-filter-value on publish, x-stream-filter and x-stream-match-unfiltered on consume", async () => {
  await withChannel(async (channel) => {
    await channel.assertQueue("s.filter", { durable: true, arguments: STREAM });
    await publishAll("s.filter", ["ca1"], { "x-stream-filter-value": "california" });
    await publishAll("s.filter", ["tx1"], { "x-stream-filter-value": "texas" });
    await publishAll("s.filter", ["none"]);
    await publishAll("s.filter", ["ca2"], { "x-stream-filter-value": "california" });
    const california = await consumeN(channel, "s.filter", 2, {
      "x-stream-offset": "first",
      "x-stream-filter": "california",
    });
    assert.deepEqual(bodiesOf(california), ["ca1", "ca2"]);
    assert.deepEqual(offsetsOf(california), [0, 3]);
    // An unfiltered marker at the end: what arrives before it is all the filter let through.
    await publishAll("s.filter", ["tail"]);
    const withUnfiltered = await consumeN(channel, "s.filter", 3, {
      "x-stream-offset": "first",
      "x-stream-filter": ["texas"],
      "x-stream-match-unfiltered": true,
    });
    assert.deepEqual(bodiesOf(withUnfiltered), ["tx1", "none", "tail"]);
    await channel.deleteQueue("s.filter");
  });
});

test("retention removes whole segments from the head: x-max-length-bytes, and a policy's max-length-bytes", async () => {
  await withChannel(async (channel) => {
    const body = "x".repeat(200);
    const small = { ...STREAM, "x-stream-max-segment-size-bytes": 1000, "x-max-length-bytes": 2500 };
    await channel.assertQueue("s.retain", { durable: true, arguments: small });
    await publishAll(
      "s.retain",
      Array.from({ length: 39 }, (_, i) => `${i}${body}`),
    );
    // Published alone, so that it is a chunk of its own ("last" starts at the last chunk).
    await publishAll("s.retain", [`39${body}`]);
    const first = await consumeN(channel, "s.retain", 1, { "x-stream-offset": "first" }, 1);
    const head = offsetsOf(first)[0] as number;
    assert.ok(head > 20, `head offset ${head}: old segments were removed`);
    assert.ok(head % 4 === 0, `head offset ${head} starts a segment (4 entries of ~260 bytes per 1000-byte segment)`);
    // Offsets stay with their messages: offset 39 is still the 40th publish.
    const last = await consumeN(channel, "s.retain", 1, { "x-stream-offset": "last" }, 1);
    assert.equal(last[0]?.content.toString().slice(0, 2), "39");
    await channel.deleteQueue("s.retain");

    await channel.assertQueue("s.policy", {
      durable: true,
      arguments: { ...STREAM, "x-stream-max-segment-size-bytes": 1000 },
    });
    await publishAll(
      "s.policy",
      Array.from({ length: 40 }, (_, i) => `${i}${body}`),
    );
    assert.equal(offsetsOf(await consumeN(channel, "s.policy", 1, { "x-stream-offset": "first" }, 1))[0], 0);
    warren.broker.broker.core.policies.put(queuePolicy("s-retention", "^s\\.policy$", { "max-length-bytes": 2500 }));
    const afterPolicy = offsetsOf(
      await consumeN(channel, "s.policy", 1, { "x-stream-offset": "first" }, 1),
    )[0] as number;
    assert.ok(afterPolicy > 20, `head offset ${afterPolicy} after the policy applied`);
    warren.broker.broker.core.policies.delete("/", "s-retention");
    await channel.deleteQueue("s.policy");
  });
});

test("several consumers read at their own offsets at once, each in order", async () => {
  await withChannel(async (channel) => {
    await channel.assertQueue("s.many", { durable: true, arguments: STREAM });
    await publishAll(
      "s.many",
      Array.from({ length: 500 }, (_, i) => String(i)),
    );
    const runs = await Promise.all(
      [0, 100, 250, 499].map(async (start) => {
        const connection = await amqplib.connect(warren.broker.url);
        try {
          const own = await connection.createChannel();
          return offsetsOf(await consumeN(own, "s.many", 500 - start, { "x-stream-offset": start }, 7));
        } finally {
          await connection.close();
        }
      }),
    );
    for (const [i, start] of [0, 100, 250, 499].entries()) {
      assert.deepEqual(
        runs[i],
        Array.from({ length: 500 - start }, (_, k) => start + k),
      );
    }
    await channel.deleteQueue("s.many");
  });
});
