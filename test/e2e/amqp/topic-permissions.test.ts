import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { nextError, openChannel, openConfirmChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

// The same user, topic permissions and operations were run against RabbitMQ 3.10
// (127.0.0.1:5673, set through its HTTP API); every outcome and text below is what it answered.
const USER = "topic-user";
const warren = useBroker({ users: [{ name: USER, password: "pw" }] }, async (broker) => {
  const users = broker.broker.core.users;
  users.setPermissions(USER, "/", { configure: ".*", write: ".*", read: ".*" });
  users.setTopicPermissions(USER, "/", "amq.topic", { write: "^allowed", read: "^r\\." });
  users.setTopicPermissions(USER, "/", "tp-vars", { write: "^{username}\\.", read: "^{vhost}" });
});

const refused = (key: string, exchange = "amq.topic"): string =>
  `ACCESS_REFUSED - access to topic '${key}' in exchange '${exchange}' in vhost '/' refused for user '${USER}'`;

async function asUser(body: (connection: amqplib.ChannelModel) => Promise<void>): Promise<void> {
  const connection = await amqplib.connect(warren.broker.urlFor(USER, "pw"));
  try {
    await body(connection);
    // A refused channel never takes the connection with it.
    const other = await connection.createChannel();
    await other.checkExchange("amq.topic");
  } finally {
    await connection.close();
  }
}

/** guest (no topic permissions) still publishes anything to amq.topic and gets it. */
async function assertGuestServed(): Promise<void> {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, "amq.topic", "denied.#");
  channel.publish("amq.topic", "denied.by-guest", Buffer.from("ok"));
  await waitFor(async () => (await channel.checkQueue(queue)).messageCount === 1);
  await connection.close();
}

test("publish to a topic exchange with a routing key outside the write pattern closes the channel with 403", async () => {
  await asUser(async (connection) => {
    const channel = await openChannel(connection);
    const closed = nextError(channel);
    channel.publish("amq.topic", "denied.x", Buffer.from("x"));
    assert.deepEqual(await closed, { code: 403, text: refused("denied.x") });
  });
  await assertGuestServed();
});

test("publish within the write pattern is routed; a confirm channel's refused publish is never confirmed", async () => {
  await asUser(async (connection) => {
    const channel = await openConfirmChannel(connection);
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, "amq.topic", "r.#");
    await channel.bindQueue(queue, "amq.direct", "denied.x");
    channel.publish("amq.topic", "allowed.x", Buffer.from("a"));
    // Topic permissions apply to topic exchanges only: amq.direct takes any key.
    channel.publish("amq.direct", "denied.x", Buffer.from("b"));
    await channel.waitForConfirms();
    assert.equal((await channel.checkQueue(queue)).messageCount, 1);
    const confirmed = new Promise<unknown>((resolve) =>
      channel.publish("amq.topic", "denied.y", Buffer.from("c"), {}, (err) => resolve(err)),
    );
    assert.match(String(await confirmed), /channel closed/);
  });
});

test("queue.bind, queue.unbind and exchange.bind to a topic exchange need the key to match the read pattern", async () => {
  await asUser(async (connection) => {
    const setup = await connection.createChannel();
    const { queue } = await setup.assertQueue("", { exclusive: true });
    await setup.bindQueue(queue, "amq.topic", "r.allowed");
    await setup.assertExchange("tp-dest", "fanout", { autoDelete: true });
    await rejectsWithClose((await openChannel(connection)).bindQueue(queue, "amq.topic", "z.x"), 403, refused("z.x"));
    await rejectsWithClose((await openChannel(connection)).unbindQueue(queue, "amq.topic", "z.x"), 403, refused("z.x"));
    await rejectsWithClose(
      (await openChannel(connection)).bindExchange("tp-dest", "amq.topic", "z.x"),
      403,
      refused("z.x"),
    );
    await (await connection.createChannel()).bindExchange("tp-dest", "amq.topic", "r.ok");
    await setup.deleteExchange("tp-dest");
  });
  await assertGuestServed();
});

test("{username} and {vhost} in a pattern are the connection's; exchanges without an entry allow any key", async () => {
  await asUser(async (connection) => {
    const setup = await connection.createChannel();
    await setup.assertExchange("tp-vars", "topic", { autoDelete: false });
    await setup.assertExchange("tp-free", "topic", { autoDelete: true });
    const { queue } = await setup.assertQueue("", { exclusive: true });
    await setup.bindQueue(queue, "tp-vars", "/.x"); // read "^{vhost}" is "^/"
    await setup.bindQueue(queue, "tp-free", "anything");
    setup.publish("tp-vars", `${USER}.hello`, Buffer.from("x"));
    setup.publish("tp-free", "anything", Buffer.from("x"));
    await setup.checkExchange("tp-vars");
    const channel = await openChannel(connection);
    const closed = nextError(channel);
    channel.publish("tp-vars", "someone-else.hello", Buffer.from("x"));
    assert.deepEqual(await closed, { code: 403, text: refused("someone-else.hello", "tp-vars") });
    await setup.deleteExchange("tp-vars");
  });
});

test("clearing the topic permissions lifts the restriction at once", async () => {
  const users = warren.broker.broker.core.users;
  users.setTopicPermissions(USER, "/", "tp-clear", { write: "^nothing$", read: "^nothing$" });
  await asUser(async (connection) => {
    const setup = await connection.createChannel();
    await setup.assertExchange("tp-clear", "topic", { autoDelete: true });
    const { queue } = await setup.assertQueue("", { exclusive: true });
    await rejectsWithClose(
      (await openChannel(connection)).bindQueue(queue, "tp-clear", "k"),
      403,
      refused("k", "tp-clear"),
    );
    users.clearTopicPermissions(USER, "/", "tp-clear");
    await setup.bindQueue(queue, "tp-clear", "k");
    setup.publish("tp-clear", "k", Buffer.from("x"));
    await waitFor(async () => (await setup.checkQueue(queue)).messageCount === 1);
  });
});
