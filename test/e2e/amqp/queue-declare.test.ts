import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

// Expected texts were observed on RabbitMQ 3.10 with the same client calls.

const warren = useBroker();

test("a server-named queue gets an amq.gen- name and is reported with its counts", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  const ok = await channel.assertQueue("", { exclusive: true });
  assert.match(ok.queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
  assert.equal(ok.messageCount, 0);
  assert.equal(ok.consumerCount, 0);
  const other = await channel.assertQueue("", { exclusive: true });
  assert.notEqual(other.queue, ok.queue);
  await connection.close();
});

test("declare creates a queue with its flags; passive declare reports messages and consumers", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("declare-flags", { durable: true, autoDelete: false, exclusive: false });
  const queue = warren.broker.broker.core.vhosts.get("/")?.queues.get("declare-flags");
  assert.ok(queue);
  assert.equal(queue.durable, true);
  assert.equal(queue.autoDelete, false);
  assert.equal(queue.exclusiveOwner, null);
  await channel.basicPublish("", "declare-flags", "one");
  await channel.basicPublish("", "declare-flags", "two");
  await channel.basicConsume("declare-flags", { noAck: false, tag: "holder" }, () => {});
  const passive = await channel.queueDeclare("declare-flags", { passive: true });
  assert.deepEqual(passive, { name: "declare-flags", messageCount: 0, consumerCount: 1 });
  await channel.queueDelete("declare-flags");
  await client.close();
});

test("passive declare of a missing queue is 404 and closes only the channel", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await rejectsWithClose(channel.checkQueue("no-such-queue"), 404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'");
  const again = await openChannel(connection);
  assert.equal((await again.assertQueue("", { exclusive: true })).messageCount, 0);
  await connection.close();
  await warren.broker.assertHealthy();
});

test("a queue name with the amq. prefix is refused with 403", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await rejectsWithClose(
    channel.queueDeclare("amq.mine"),
    403,
    "ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq.*'",
  );
  // Passively, the name is merely looked up, as RabbitMQ does.
  const second = await client.channel();
  await rejectsWithClose(
    second.queueDeclare("amq.mine", { passive: true }),
    404,
    "NOT_FOUND - no queue 'amq.mine' in vhost '/'",
  );
  await client.close();
  await warren.broker.assertHealthy();
});

const invalidArguments: Array<[string, Record<string, unknown>, string]> = [
  ["x-message-ttl", { "x-message-ttl": -1 }, "{value_negative,-1}"],
  ["x-message-ttl", { "x-message-ttl": "soon" }, '"expected integer, got longstr"'],
  ["x-expires", { "x-expires": 0 }, "{value_zero,0}"],
  ["x-max-priority", { "x-max-priority": 300 }, "{max_value_exceeded,300}"],
  ["x-overflow", { "x-overflow": "bad" }, "invalid_overflow"],
  ["x-dead-letter-routing-key", { "x-dead-letter-routing-key": "k" }, "routing_key_but_no_dlx_defined"],
  ["x-queue-type", { "x-queue-type": "bad" }, "\"unsupported queue type 'bad'\""],
  ["x-queue-mode", { "x-queue-mode": "bad" }, "\"unsupported queue mode 'bad'\""],
  // Quorum queues and streams take client-local, balanced and 3.10's older names random and least-leaders.
  [
    "x-queue-leader-locator",
    { "x-queue-type": "quorum", "x-queue-leader-locator": "min-masters" },
    "invalid_queue_locator_arg",
  ],
  ["x-queue-leader-locator", { "x-queue-type": "quorum", "x-queue-leader-locator": 5 }, "{unacceptable_type,byte}"],
];

for (const [name, args, reason] of invalidArguments) {
  test(`an invalid ${name} (${JSON.stringify(args[name])}) is 406 with RabbitMQ's text`, async () => {
    const connection = await amqplib.connect(warren.broker.url);
    const channel = await openChannel(connection);
    await rejectsWithClose(
      channel.assertQueue("q", { arguments: args }),
      406,
      `PRECONDITION_FAILED - invalid arg '${name}' for queue 'q' in vhost '/': ${reason}`,
    );
    assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("q"), false);
    await connection.close();
  });
}

test("x-queue-leader-locator: a quorum queue takes RabbitMQ 3.10's values, a classic queue refuses the argument", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  for (const locator of ["client-local", "balanced", "random", "least-leaders"]) {
    await channel.assertQueue(`locator-${locator}`, {
      durable: true,
      arguments: { "x-queue-type": "quorum", "x-queue-leader-locator": locator },
    });
    await channel.deleteQueue(`locator-${locator}`);
  }
  // Classic queues have x-queue-master-locator instead; RabbitMQ refuses this one whatever its value.
  await rejectsWithClose(
    channel.assertQueue("q", { durable: true, arguments: { "x-queue-leader-locator": "balanced" } }),
    406,
    "PRECONDITION_FAILED - invalid arg 'x-queue-leader-locator' for queue 'q' in vhost '/' of queue type rabbit_classic_queue",
  );
  assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("q"), false);
  await connection.close();
  await warren.broker.assertHealthy();
});

test("redeclaring with different durable, arguments or exclusivity is refused", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const declare = async (options: amqplib.Options.AssertQueue): Promise<unknown> => {
    const channel = await openChannel(connection);
    return channel.assertQueue("ineq", options);
  };
  await declare({ durable: false, autoDelete: true, arguments: { "x-message-ttl": 1000 } });
  await rejectsWithClose(
    declare({ durable: true, autoDelete: true, arguments: { "x-message-ttl": 1000 } }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'ineq' in vhost '/': received 'true' but current is 'false'",
  );
  await rejectsWithClose(
    declare({ durable: false, autoDelete: true, arguments: { "x-message-ttl": 2000 } }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'ineq' in vhost '/': received '2000' but current is '1000'",
  );
  await rejectsWithClose(
    declare({ durable: false, autoDelete: true }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'ineq' in vhost '/': received none but current is the value '1000' of type 'short'",
  );
  // Exclusivity is compared strictly (RabbitMQ 3.10): 405 even on the same connection.
  await rejectsWithClose(
    declare({ durable: false, exclusive: true, autoDelete: true, arguments: { "x-message-ttl": 1000 } }),
    405,
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'ineq' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
  );
  // An equivalent redeclare still works.
  const same = await declare({ durable: false, autoDelete: true, arguments: { "x-message-ttl": 1000 } });
  assert.deepEqual(same, { queue: "ineq", messageCount: 0, consumerCount: 0 });
  await (await openChannel(connection)).deleteQueue("ineq");
  await connection.close();
  await warren.broker.assertHealthy();
});

test("an exclusive queue redeclared non-exclusively on its own connection is 405", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("excl-redeclare", { exclusive: true, durable: false, autoDelete: false });
  await rejectsWithClose(
    channel.queueDeclare("excl-redeclare", { exclusive: false, durable: false, autoDelete: false }),
    405,
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'excl-redeclare' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
  );
  // A passive declare from the owner is lax and succeeds.
  const again = await client.channel();
  assert.equal((await again.queueDeclare("excl-redeclare", { passive: true })).name, "excl-redeclare");
  await client.close();
});
