import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConfirmChannel } from "amqplib";
import { sleep, waitFor } from "../../helpers/broker.js";
import { drainQueue, useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

const drain = (queue: string): Promise<string[]> => drainQueue(amqp.channel, queue);

test("x-delayed-message: messages with x-delay are routed when due, in due order; without it at once", async () => {
  await amqp.channel.assertExchange("ex.delayed", "x-delayed-message", {
    autoDelete: true,
    arguments: { "x-delayed-type": "direct" },
  });
  const { queue } = await amqp.channel.assertQueue("ex.delayed.q", { exclusive: true });
  await amqp.channel.bindQueue(queue, "ex.delayed", "k");
  const got: string[] = [];
  await amqp.channel.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });
  // 1,500 ms against 60: the broker may read "sooner" well after "late" under a loaded suite (at 150 ms a
  // 90 ms gap between the two reads once put "late" first at load 11).
  amqp.channel.publish("ex.delayed", "k", Buffer.from("late"), { headers: { "x-delay": 1500 } });
  amqp.channel.publish("ex.delayed", "k", Buffer.from("sooner"), { headers: { "x-delay": 60 } });
  amqp.channel.publish("ex.delayed", "k", Buffer.from("now"));
  amqp.channel.publish("ex.delayed", "other", Buffer.from("unbound"), { headers: { "x-delay": 10 } });
  await waitFor(() => got.length === 3, 15_000);
  // "late" was published first: only its delay can put it last
  assert.deepEqual(got, ["now", "sooner", "late"]);
});

test("x-delayed-message needs a valid x-delayed-type (the plugin's 406 texts)", async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      {},
      /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type"/,
    ],
    [
      { "x-delayed-type": "x-delayed-message" },
      /PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' can't be of type x-delayed-message/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const ch = await amqp.connection.createChannel();
    ch.on("error", () => {});
    await assert.rejects(ch.assertExchange("ex.bad", "x-delayed-message", { arguments: args }), pattern);
  }
  await amqp.broker.assertHealthy();
});

test("x-consistent-hash: a routing key always goes to the same queue, spread by binding weight", async () => {
  await amqp.channel.assertExchange("ex.hash", "x-consistent-hash", { autoDelete: true });
  const { queue: a } = await amqp.channel.assertQueue("ex.hash.a", { exclusive: true });
  const { queue: b } = await amqp.channel.assertQueue("ex.hash.b", { exclusive: true });
  await amqp.channel.bindQueue(a, "ex.hash", "1");
  await amqp.channel.bindQueue(b, "ex.hash", "3");
  for (let i = 0; i < 400; i++) amqp.channel.publish("ex.hash", `key-${i}`, Buffer.from(`key-${i}`));
  await waitFor(
    async () =>
      (await amqp.channel.checkQueue(a)).messageCount + (await amqp.channel.checkQueue(b)).messageCount === 400,
  );
  const inA = await drain(a);
  const inB = await drain(b);
  assert.ok(inA.length > 20 && inB.length > inA.length, `a=${inA.length} b=${inB.length}`);
  // the same keys again land where they did before
  for (const key of inA.slice(0, 20)) amqp.channel.publish("ex.hash", key, Buffer.from(key));
  await waitFor(async () => (await amqp.channel.checkQueue(a)).messageCount === 20);
  assert.equal((await amqp.channel.checkQueue(b)).messageCount, 0);
  await drain(a);
});

test("x-consistent-hash with hash-header hashes that header instead of the routing key", async () => {
  await amqp.channel.assertExchange("ex.hashh", "x-consistent-hash", {
    autoDelete: true,
    arguments: { "hash-header": "user" },
  });
  const { queue: a } = await amqp.channel.assertQueue("ex.hashh.a", { exclusive: true });
  const { queue: b } = await amqp.channel.assertQueue("ex.hashh.b", { exclusive: true });
  await amqp.channel.bindQueue(a, "ex.hashh", "10");
  await amqp.channel.bindQueue(b, "ex.hashh", "10");
  for (let i = 0; i < 30; i++)
    amqp.channel.publish("ex.hashh", `rk-${i}`, Buffer.from(String(i)), { headers: { user: "alice" } });
  await waitFor(
    async () =>
      (await amqp.channel.checkQueue(a)).messageCount + (await amqp.channel.checkQueue(b)).messageCount === 30,
  );
  const counts = [
    (await amqp.channel.checkQueue(a)).messageCount,
    (await amqp.channel.checkQueue(b)).messageCount,
  ].sort();
  assert.deepEqual(counts, [0, 30]);
  await drain(a);
  await drain(b);
});

test("x-random: each message goes to exactly one bound queue", async () => {
  await amqp.channel.assertExchange("ex.random", "x-random", { autoDelete: true });
  const queues: string[] = [];
  for (const name of ["ex.random.a", "ex.random.b", "ex.random.c"]) {
    const { queue } = await amqp.channel.assertQueue(name, { exclusive: true });
    await amqp.channel.bindQueue(queue, "ex.random", "ignored");
    queues.push(queue);
  }
  for (let i = 0; i < 90; i++) amqp.channel.publish("ex.random", "anything", Buffer.from(String(i)));
  let counts: number[] = [];
  await waitFor(async () => {
    counts = await Promise.all(queues.map(async (q) => (await amqp.channel.checkQueue(q)).messageCount));
    return counts.reduce((x, y) => x + y, 0) === 90;
  });
  assert.ok(
    counts.every((c) => c > 0),
    `every queue gets some: ${counts.join(",")}`,
  );
  for (const q of queues) await drain(q);
});

test("x-message-deduplication on a queue: a repeated id is dropped but still confirmed", async () => {
  const { queue } = await amqp.channel.assertQueue("ex.dedup.q", {
    exclusive: true,
    arguments: { "x-message-deduplication": true, "x-cache-size": 10 },
  });
  const ch: ConfirmChannel = await amqp.connection.createConfirmChannel();
  const send = (body: string, id?: string): Promise<string> =>
    new Promise((resolve) =>
      ch.sendToQueue(
        queue,
        Buffer.from(body),
        id === undefined ? {} : { headers: { "x-deduplication-header": id } },
        (e) => resolve(e ? "nack" : "ack"),
      ),
    );
  assert.deepEqual(await Promise.all([send("1", "a"), send("2", "a"), send("3", "b"), send("4"), send("5")]), [
    "ack",
    "ack",
    "ack",
    "ack",
    "ack",
  ]);
  assert.deepEqual(await drain(queue), ["1", "3", "4", "5"]);
  await ch.close();
});

test("x-message-deduplication on an exchange with x-cache-ttl and a custom header", async () => {
  await amqp.channel.assertExchange("ex.dedup", "fanout", {
    autoDelete: true,
    arguments: { "x-message-deduplication": true, "x-cache-ttl": 500, "x-deduplication-header": "msg-id" },
  });
  const { queue } = await amqp.channel.assertQueue("ex.dedup.x", { exclusive: true });
  await amqp.channel.bindQueue(queue, "ex.dedup", "");
  amqp.channel.publish("ex.dedup", "", Buffer.from("first"), { headers: { "msg-id": "same" } });
  amqp.channel.publish("ex.dedup", "", Buffer.from("dup"), { headers: { "msg-id": "same" } });
  await amqp.channel.checkQueue(queue);
  // The ttl leaves room for the broker to be descheduled between the first two publishes (a full suite runs at load 20+).
  await sleep(600);
  amqp.channel.publish("ex.dedup", "", Buffer.from("after ttl"), { headers: { "msg-id": "same" } });
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 2);
  assert.deepEqual(await drain(queue), ["first", "after ttl"]);
});

test("CC and BCC add routing keys; BCC is removed before delivery, CC is kept", async () => {
  const { queue: main } = await amqp.channel.assertQueue("ex.cc.main", { exclusive: true });
  const { queue: cc } = await amqp.channel.assertQueue("ex.cc.cc", { exclusive: true });
  const { queue: bcc } = await amqp.channel.assertQueue("ex.cc.bcc", { exclusive: true });
  amqp.channel.sendToQueue(main, Buffer.from("memo"), { headers: { CC: [cc], BCC: [bcc] } });
  const got = await Promise.all(
    [main, cc, bcc].map((q) => waitFor(async () => (await amqp.channel.get(q, { noAck: true })) || null)),
  );
  for (const message of got) {
    assert.equal(message.content.toString(), "memo");
    assert.equal(message.fields.routingKey, main);
    assert.deepEqual(message.properties.headers?.["CC"], [cc]);
    assert.equal(message.properties.headers?.["BCC"], undefined);
  }
});
