import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { nextError, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { TestBroker, waitFor } from "../../helpers/broker.js";

// The same user, permissions and operations were run against RabbitMQ 3.10
// (127.0.0.1:5673); every outcome and text below is what it answered.
const USER = "restricted";
const PASSWORD = "pw";
let broker: TestBroker;
let admin: amqplib.ChannelModel;
before(async () => {
  broker = await TestBroker.start({ users: [{ name: USER, password: PASSWORD }] });
  broker.broker.core.users.setPermissions(USER, "/", {
    configure: "^perm-c",
    write: "^perm-w|^perm-c",
    read: "^perm-r|^perm-c",
  });
  admin = await amqplib.connect(broker.url);
  const channel = await admin.createChannel();
  for (const queue of ["perm-r-q", "perm-w-q", "perm-x-q"]) await channel.assertQueue(queue);
  for (const exchange of ["perm-r-x", "perm-w-x"]) await channel.assertExchange(exchange, "fanout");
  await channel.bindQueue("perm-r-q", "perm-w-x", "");
  await channel.close();
});
after(async () => {
  const channel = await admin.createChannel();
  for (const queue of ["perm-r-q", "perm-w-q", "perm-x-q", "perm-c-q"]) await channel.deleteQueue(queue);
  for (const exchange of ["perm-r-x", "perm-w-x", "perm-c-x"]) await channel.deleteExchange(exchange);
  await admin.close();
  await broker.stop();
});

const refused = (kind: "queue" | "exchange", name: string): string =>
  `ACCESS_REFUSED - access to ${kind} '${name}' in vhost '/' refused for user '${USER}'`;

/** Runs `body` on a fresh amqplib channel of the restricted user; the connection must survive a 403. */
async function asUser<T>(body: (channel: amqplib.Channel) => Promise<T>): Promise<T> {
  const connection = await amqplib.connect(broker.urlFor(USER, PASSWORD));
  const channel = await connection.createChannel();
  channel.on("error", () => undefined);
  try {
    return await body(channel);
  } finally {
    // A channel error never takes the connection with it: another channel still works.
    const other = await connection.createChannel();
    await other.checkExchange("amq.direct");
    await connection.close();
  }
}

async function asUserAmqpClient<T>(body: (channel: AMQPChannel) => Promise<T>): Promise<T> {
  const connection = await new AMQPClient(broker.urlFor(USER, PASSWORD)).connect();
  try {
    return await body(await connection.channel());
  } finally {
    assert.equal(connection.closed, false);
    await connection.close();
  }
}

test("queue.declare needs configure on the queue, server-named queues included", async () => {
  await asUser((ch) => rejectsWithClose(ch.assertQueue("other-q"), 403, refused("queue", "other-q")));
  await asUser(async (ch) => {
    await assert.rejects(ch.assertQueue("", { exclusive: true }), (error: Error) => {
      assert.match(
        error.message,
        /ACCESS_REFUSED - access to queue 'amq\.gen-[\w-]{22}' in vhost '\/' refused for user 'restricted'"/,
      );
      return true;
    });
  });
  await asUser((ch) => ch.assertQueue("perm-c-q"));
});

test("a passive declare needs no permission", async () => {
  await asUser(async (ch) => {
    const { queue } = await ch.checkQueue("perm-x-q");
    assert.equal(queue, "perm-x-q");
  });
});

test("exchange.declare and exchange.delete need configure on the exchange", async () => {
  await asUserAmqpClient((ch) =>
    rejectsWithClose(ch.exchangeDeclare("other-x", "fanout"), 403, refused("exchange", "other-x")),
  );
  await asUserAmqpClient((ch) => rejectsWithClose(ch.exchangeDelete("perm-r-x"), 403, refused("exchange", "perm-r-x")));
  await asUserAmqpClient((ch) => ch.exchangeDeclare("perm-c-x", "fanout"));
});

test("queue.bind needs write on the queue and read on the exchange", async () => {
  await asUser((ch) => rejectsWithClose(ch.bindQueue("perm-r-q", "perm-r-x", ""), 403, refused("queue", "perm-r-q")));
  await asUser((ch) =>
    rejectsWithClose(ch.bindQueue("perm-w-q", "perm-w-x", ""), 403, refused("exchange", "perm-w-x")),
  );
  await asUser((ch) => rejectsWithClose(ch.unbindQueue("perm-r-q", "perm-r-x", ""), 403, refused("queue", "perm-r-q")));
  await asUser((ch) => ch.bindQueue("perm-w-q", "perm-r-x", ""));
});

test("exchange.bind needs write on the destination and read on the source", async () => {
  await asUserAmqpClient((ch) =>
    rejectsWithClose(ch.exchangeBind("perm-r-x", "perm-w-x", ""), 403, refused("exchange", "perm-r-x")),
  );
  await asUserAmqpClient((ch) =>
    rejectsWithClose(ch.exchangeBind("perm-w-x", "perm-w-x", ""), 403, refused("exchange", "perm-w-x")),
  );
});

test("basic.publish needs write on the exchange, the default exchange shown as amq.default", async () => {
  await asUser(async (ch) => {
    const closed = nextError(ch);
    ch.publish("perm-r-x", "", Buffer.from("x"));
    assert.deepEqual(await closed, { code: 403, text: refused("exchange", "perm-r-x") });
  });
  await asUser(async (ch) => {
    const closed = nextError(ch);
    ch.sendToQueue("perm-w-q", Buffer.from("x"));
    assert.deepEqual(await closed, { code: 403, text: refused("exchange", "amq.default") });
  });
  assert.equal(broker.broker.core.vhosts.get("/")?.queues.get("perm-w-q")?.messageCount, 0);
});

test("an allowed publish is routed (write on the exchange is enough, the queue needs nothing)", async () => {
  await asUser(async (ch) => {
    ch.publish("perm-w-x", "", Buffer.from("allowed"));
    await waitFor(() => broker.broker.core.vhosts.get("/")?.queues.get("perm-r-q")?.messageCount === 1);
  });
});

test("basic.get, basic.consume and queue.purge need read on the queue", async () => {
  await asUser((ch) => rejectsWithClose(ch.get("perm-w-q"), 403, refused("queue", "perm-w-q")));
  await asUser((ch) =>
    rejectsWithClose(
      ch.consume("perm-w-q", () => undefined),
      403,
      refused("queue", "perm-w-q"),
    ),
  );
  await asUser((ch) => rejectsWithClose(ch.purgeQueue("perm-w-q"), 403, refused("queue", "perm-w-q")));
  await asUserAmqpClient(async (ch) => {
    await rejectsWithClose(ch.basicGet("perm-w-q"), 403, refused("queue", "perm-w-q"));
  });
  const message = await asUser((ch) => ch.get("perm-r-q", { noAck: true }));
  assert.ok(message);
  assert.equal(message.content.toString(), "allowed");
  await asUser((ch) => ch.consume("perm-r-q", () => undefined));
});

test("queue.delete needs configure on the queue", async () => {
  await asUser((ch) => rejectsWithClose(ch.deleteQueue("perm-r-q"), 403, refused("queue", "perm-r-q")));
  assert.ok(broker.broker.core.vhosts.get("/")?.queues.has("perm-r-q"));
});

test("a user with no permissions at all on the vhost cannot open it", async () => {
  broker.broker.core.users.addUser("outsider", "pw");
  await assert.rejects(amqplib.connect(broker.urlFor("outsider", "pw")));
  const client = new AMQPClient(broker.urlFor("outsider", "pw"));
  await assert.rejects(client.connect(), /NOT_ALLOWED - access to vhost '\/' refused for user 'outsider' \(530\)/);
});
