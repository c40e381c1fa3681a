import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { nextError, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

// Expected texts were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same client calls.
const warren = useBroker();

const vhost = () => {
  const found = warren.broker.broker.core.vhosts.get("/");
  assert.ok(found);
  return found;
};

async function withAmqplib<T>(
  body: (channel: amqplib.Channel, connection: amqplib.ChannelModel) => Promise<T>,
): Promise<T> {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  // Closes are asserted through the rejected operations; the 'error' events that follow are expected.
  channel.on("error", () => undefined);
  try {
    return await body(channel, connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function withAmqpClient<T>(body: (channel: AMQPChannel) => Promise<T>): Promise<T> {
  const connection = await new AMQPClient(warren.broker.url).connect();
  try {
    return await body(await connection.channel());
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** One message from the queue (no-ack), or null when it is empty. */
async function getOne(channel: amqplib.Channel, queue: string): Promise<string | null> {
  const message = await channel.get(queue, { noAck: true });
  return message ? message.content.toString() : null;
}

test("the default exchange and amq.direct/fanout/topic/headers/match exist with their types", async () => {
  await withAmqplib(async (channel) => {
    for (const name of ["amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"])
      await channel.checkExchange(name);
  });
  const types = Object.fromEntries(
    ["", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"].map((name) => [
      name,
      vhost().exchanges.get(name)?.type,
    ]),
  );
  assert.deepEqual(types, {
    "": "direct",
    "amq.direct": "direct",
    "amq.fanout": "fanout",
    "amq.topic": "topic",
    "amq.headers": "headers",
    "amq.match": "headers",
  });
});

test("redeclaring a system exchange with its own properties is fine (amqp-client)", async () => {
  await withAmqpClient(async (channel) => {
    await channel.exchangeDeclare("amq.topic", "topic", { durable: true });
  });
});

test("declare keeps durable, auto-delete and internal; a passive declare of a missing exchange is 404", async () => {
  await withAmqpClient(async (channel) => {
    await channel.exchangeDeclare("ex-flags", "topic", { durable: true, autoDelete: false, internal: true });
    await channel.exchangeDeclare("ex-flags", "topic", { passive: true });
    await rejectsWithClose(
      channel.exchangeDeclare("ex-missing", "direct", { passive: true }),
      404,
      "NOT_FOUND - no exchange 'ex-missing' in vhost '/'",
    );
  });
  const exchange = vhost().exchanges.get("ex-flags");
  assert.deepEqual(
    {
      type: exchange?.type,
      durable: exchange?.durable,
      autoDelete: exchange?.autoDelete,
      internal: exchange?.internal,
    },
    { type: "topic", durable: true, autoDelete: false, internal: true },
  );
  await withAmqplib((channel) => channel.deleteExchange("ex-flags"));
});

test("redeclaring with a different type, durable, auto_delete or internal is 406 with RabbitMQ's text", async () => {
  await withAmqplib((channel) => channel.assertExchange("ex-equiv", "direct", { durable: false }));
  const cases: Array<[string, amqplib.Options.AssertExchange, string]> = [
    [
      "fanout",
      { durable: false },
      "inequivalent arg 'type' for exchange 'ex-equiv' in vhost '/': received 'fanout' but current is 'direct'",
    ],
    [
      "direct",
      { durable: true },
      "inequivalent arg 'durable' for exchange 'ex-equiv' in vhost '/': received 'true' but current is 'false'",
    ],
    [
      "direct",
      { durable: false, autoDelete: true },
      "inequivalent arg 'auto_delete' for exchange 'ex-equiv' in vhost '/': received 'true' but current is 'false'",
    ],
    [
      "direct",
      { durable: false, internal: true },
      "inequivalent arg 'internal' for exchange 'ex-equiv' in vhost '/': received 'true' but current is 'false'",
    ],
  ];
  for (const [type, options, text] of cases) {
    await withAmqplib((channel) =>
      rejectsWithClose(channel.assertExchange("ex-equiv", type, options), 406, `PRECONDITION_FAILED - ${text}`),
    );
  }
  await withAmqplib((channel) => channel.deleteExchange("ex-equiv"));
});

test("an unknown exchange type is 503 COMMAND_INVALID and closes the connection (amqp-client)", async () => {
  const connection = await new AMQPClient(warren.broker.url).connect();
  const channel = await connection.channel();
  await assert.rejects(
    channel.exchangeDeclare("ex-bad-type", "x-no-such"),
    /COMMAND_INVALID - unknown exchange type 'x-no-such' \(503\)/,
  );
  await waitFor(() => connection.closed);
});

test("names starting with amq. are reserved: declare is 403 ACCESS_REFUSED", async () => {
  await withAmqpClient((channel) =>
    rejectsWithClose(
      channel.exchangeDeclare("amq.mine", "fanout"),
      403,
      "ACCESS_REFUSED - exchange name 'amq.mine' contains reserved prefix 'amq.*'",
    ),
  );
});

test("delete with if-unused on an exchange with bindings is 406; without it the exchange goes", async () => {
  await withAmqplib(async (channel, connection) => {
    await channel.assertExchange("ex-used", "fanout");
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "ex-used", "");
    await rejectsWithClose(
      channel.deleteExchange("ex-used", { ifUnused: true }),
      406,
      "PRECONDITION_FAILED - exchange 'ex-used' in vhost '/' in use",
    );
    const again = await connection.createChannel();
    again.on("error", () => undefined);
    await again.deleteExchange("ex-used");
    await rejectsWithClose(again.checkExchange("ex-used"), 404, "NOT_FOUND - no exchange 'ex-used' in vhost '/'");
  });
});

test("an exchange that is only a binding's destination counts as unused (if-unused succeeds)", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-dest-only", "fanout");
    await channel.bindExchange("ex-dest-only", "amq.fanout", "");
    await channel.deleteExchange("ex-dest-only", { ifUnused: true });
  });
  assert.equal(vhost().exchanges.has("ex-dest-only"), false);
});

test("deleting a missing exchange succeeds, as in RabbitMQ 3.10", async () => {
  await withAmqpClient((channel) => channel.exchangeDelete("ex-never-existed"));
});

test("deleting amq.* or the default exchange is 403 ACCESS_REFUSED", async () => {
  await withAmqplib((channel) =>
    rejectsWithClose(
      channel.deleteExchange("amq.direct"),
      403,
      "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
    ),
  );
  await withAmqpClient((channel) =>
    rejectsWithClose(
      channel.exchangeDelete(""),
      403,
      "ACCESS_REFUSED - operation not permitted on the default exchange",
    ),
  );
  assert.ok(vhost().exchanges.has("amq.direct"));
});

test("binding to or from the default exchange is 403", async () => {
  await withAmqplib(async (channel) => {
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await rejectsWithClose(
      channel.bindQueue(queue, "", "x"),
      403,
      "ACCESS_REFUSED - operation not permitted on the default exchange",
    );
  });
});

test("publishing to an internal exchange is 403 and closes the channel; the connection goes on", async () => {
  await withAmqplib(async (channel, connection) => {
    await channel.assertExchange("ex-internal", "fanout", { internal: true });
    const closed = nextError(channel);
    channel.publish("ex-internal", "", Buffer.from("x"));
    assert.deepEqual(await closed, {
      code: 403,
      text: "ACCESS_REFUSED - cannot publish to internal exchange 'ex-internal' in vhost '/'",
    });
    const other = await connection.createChannel();
    await other.deleteExchange("ex-internal");
  });
});

test("an internal exchange still receives messages through an exchange-to-exchange binding", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-front", "direct");
    await channel.assertExchange("ex-hidden", "fanout", { internal: true });
    await channel.bindExchange("ex-hidden", "ex-front", "k");
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "ex-hidden", "");
    channel.publish("ex-front", "k", Buffer.from("through"));
    assert.equal(await waitFor(() => getOne(channel, queue)), "through");
    await channel.deleteExchange("ex-front");
    await channel.deleteExchange("ex-hidden");
  });
});

test("publishing to a missing exchange is 404 and closes only the channel", async () => {
  await withAmqplib(async (channel) => {
    const closed = nextError(channel);
    channel.publish("ex-nowhere", "", Buffer.from("x"));
    assert.deepEqual(await closed, { code: 404, text: "NOT_FOUND - no exchange 'ex-nowhere' in vhost '/'" });
  });
});

test("exchange-to-exchange bind routes through; unbind stops it (amqp-client)", async () => {
  await withAmqpClient(async (channel) => {
    await channel.exchangeDeclare("ex-src", "topic");
    await channel.exchangeDeclare("ex-dst", "fanout");
    await channel.exchangeBind("ex-dst", "ex-src", "a.*");
    const { name } = await channel.queueDeclare("", { exclusive: true });
    await channel.queueBind(name, "ex-dst", "");
    await channel.basicPublish("ex-src", "a.b", "routed");
    await channel.basicPublish("ex-src", "b.b", "not routed");
    const first = await waitFor(async () => (await channel.basicGet(name, { noAck: true })) ?? null);
    assert.equal(first.bodyToString(), "routed");
    await channel.exchangeUnbind("ex-dst", "ex-src", "a.*");
    await channel.basicPublish("ex-src", "a.b", "after unbind");
    const { messageCount } = await channel.queueDeclare(name, { passive: true });
    assert.equal(messageCount, 0);
    await channel.exchangeDelete("ex-src");
    await channel.exchangeDelete("ex-dst");
  });
});

test("exchange-to-exchange cycles deliver once per queue", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-cycle-a", "fanout");
    await channel.assertExchange("ex-cycle-b", "fanout");
    await channel.bindExchange("ex-cycle-b", "ex-cycle-a", "");
    await channel.bindExchange("ex-cycle-a", "ex-cycle-b", "");
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "ex-cycle-a", "");
    await channel.bindQueue(queue, "ex-cycle-b", "");
    channel.publish("ex-cycle-a", "", Buffer.from("once"));
    assert.equal(await waitFor(() => getOne(channel, queue)), "once");
    assert.equal((await channel.checkQueue(queue)).messageCount, 0);
    await channel.deleteExchange("ex-cycle-a");
    await channel.deleteExchange("ex-cycle-b");
  });
});

test("an auto-delete exchange disappears when its last binding goes, not before", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-auto", "direct", { autoDelete: true });
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "ex-auto", "a");
    await channel.bindQueue(queue, "ex-auto", "b");
    await channel.unbindQueue(queue, "ex-auto", "a");
    await channel.checkExchange("ex-auto");
    await channel.unbindQueue(queue, "ex-auto", "b");
  });
  assert.equal(vhost().exchanges.has("ex-auto"), false);
});

test("an auto-delete exchange goes when the queue bound to it is deleted", async () => {
  await withAmqpClient(async (channel) => {
    await channel.exchangeDeclare("ex-auto-q", "fanout", { autoDelete: true });
    const { name } = await channel.queueDeclare("ex-auto-queue");
    await channel.queueBind(name, "ex-auto-q", "");
    await channel.queueDelete(name);
    await rejectsWithClose(
      channel.exchangeDeclare("ex-auto-q", "fanout", { passive: true }),
      404,
      "NOT_FOUND - no exchange 'ex-auto-q' in vhost '/'",
    );
  });
});

test("alternate-exchange receives what the exchange cannot route; routed messages do not go there", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-ae", "fanout");
    await channel.assertExchange("ex-with-ae", "direct", { alternateExchange: "ex-ae" });
    const { queue: unrouted } = await channel.assertQueue("", { exclusive: true });
    const { queue: routed } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(unrouted, "ex-ae", "");
    await channel.bindQueue(routed, "ex-with-ae", "known");
    channel.publish("ex-with-ae", "unknown", Buffer.from("to ae"));
    channel.publish("ex-with-ae", "known", Buffer.from("to queue"));
    assert.equal(await waitFor(() => getOne(channel, unrouted)), "to ae");
    assert.equal(await waitFor(() => getOne(channel, routed)), "to queue");
    assert.equal(await getOne(channel, unrouted), null);
    await channel.deleteExchange("ex-with-ae");
    await channel.deleteExchange("ex-ae");
  });
});

test("a mandatory message caught by the alternate exchange is not returned", async () => {
  await withAmqplib(async (channel) => {
    await channel.assertExchange("ex-ae2", "fanout");
    await channel.assertExchange("ex-with-ae2", "direct", { alternateExchange: "ex-ae2" });
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "ex-ae2", "");
    let returned = 0;
    channel.on("return", () => returned++);
    channel.publish("ex-with-ae2", "nowhere", Buffer.from("kept"), { mandatory: true });
    assert.equal(await waitFor(() => getOne(channel, queue)), "kept");
    assert.equal(returned, 0);
    await channel.deleteExchange("ex-with-ae2");
    await channel.deleteExchange("ex-ae2");
  });
});

test("alternate-exchange must be a string (406), and redeclaring with another one is 406", async () => {
  await withAmqplib((channel) =>
    rejectsWithClose(
      channel.assertExchange("ex-ae-bad", "fanout", { alternateExchange: 5 as unknown as string }),
      406,
      "PRECONDITION_FAILED - invalid type 'byte' for arg 'alternate-exchange' in exchange 'ex-ae-bad' in vhost '/'",
    ),
  );
  assert.equal(vhost().exchanges.has("ex-ae-bad"), false);
  await withAmqplib(async (channel, connection) => {
    await channel.assertExchange("ex-ae-equiv", "fanout", { alternateExchange: "a" });
    await rejectsWithClose(
      channel.assertExchange("ex-ae-equiv", "fanout", { alternateExchange: "b" }),
      406,
      "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'ex-ae-equiv' in vhost '/': received 'b' but current is 'a'",
    );
    await (await connection.createChannel()).deleteExchange("ex-ae-equiv");
  });
});
