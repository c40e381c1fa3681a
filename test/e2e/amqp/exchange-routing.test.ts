import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AMQPClient, type AMQPMessage } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { TestBroker, waitFor } from "../../helpers/broker.js";

// The routing tables below were produced by publishing the same messages to
// RabbitMQ 3.10 (127.0.0.1:5673) through the same bindings; Warren must agree.
let broker: TestBroker;
let connection: amqplib.ChannelModel;
let channel: amqplib.ConfirmChannel;
before(async () => {
  broker = await TestBroker.start();
  connection = await amqplib.connect(broker.url);
  channel = await connection.createConfirmChannel();
});
after(async () => {
  await connection.close();
  await broker.stop();
});

/** One exclusive queue per name, bound to `exchange` with its key/arguments. */
async function bindQueues(
  exchange: string,
  bindings: Record<string, { key?: string; args?: Record<string, unknown> }>,
): Promise<Map<string, string>> {
  const queues = new Map<string, string>();
  for (const [name, { key = "", args }] of Object.entries(bindings)) {
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, exchange, key, args);
    queues.set(name, queue);
  }
  return queues;
}

/** Publishes one message (confirmed, so routing is done) and names the queues that got it, emptying them. */
async function routedTo(queues: Map<string, string>, publish: () => void): Promise<string[]> {
  publish();
  await channel.waitForConfirms();
  const hit: string[] = [];
  for (const [name, queue] of queues) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount > 0) hit.push(name);
    if (messageCount > 0) await channel.purgeQueue(queue);
  }
  return hit;
}

test("direct: exact routing-key match, several queues per key, none for other keys", async () => {
  await channel.assertExchange("rt-direct", "direct");
  const queues = await bindQueues("rt-direct", {
    a1: { key: "a" },
    a2: { key: "a" },
    b: { key: "b" },
    empty: { key: "" },
  });
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-direct", "a", Buffer.from("x"))), ["a1", "a2"]);
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-direct", "b", Buffer.from("x"))), ["b"]);
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-direct", "", Buffer.from("x"))), ["empty"]);
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-direct", "A", Buffer.from("x"))), []);
  await channel.deleteExchange("rt-direct");
});

test("the default exchange routes to the queue named by the routing key", async () => {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  assert.deepEqual(await routedTo(new Map([["q", queue]]), () => channel.sendToQueue(queue, Buffer.from("x"))), ["q"]);
});

test("fanout: every bound queue, whatever the routing key", async () => {
  await channel.assertExchange("rt-fanout", "fanout");
  const queues = await bindQueues("rt-fanout", { x: { key: "x" }, y: { key: "y" }, z: {} });
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-fanout", "anything", Buffer.from("x"))), [
    "x",
    "y",
    "z",
  ]);
  await channel.deleteExchange("rt-fanout");
});

const TOPIC_PATTERNS = [
  "*",
  "",
  "#",
  "a.*",
  "a.#",
  "#.c",
  "a.*.c",
  "a.#.c",
  "*.*",
  "#.#",
  "a.#.#",
  "*.#",
  "#.*",
  "a..c",
  "a.*.#",
  ".",
  "*.",
  "a.b.c",
];
const TOPIC_ROUTES: Record<string, string[]> = {
  "": ["", "#", "#.#"],
  a: ["*", "#", "a.#", "#.#", "a.#.#", "*.#", "#.*"],
  "a.b": ["#", "a.*", "a.#", "*.*", "#.#", "a.#.#", "*.#", "#.*", "a.*.#"],
  "a.b.c": ["#", "a.#", "#.c", "a.*.c", "a.#.c", "#.#", "a.#.#", "*.#", "#.*", "a.*.#", "a.b.c"],
  "a.c": ["#", "a.*", "a.#", "#.c", "a.#.c", "*.*", "#.#", "a.#.#", "*.#", "#.*", "a.*.#"],
  "a..c": ["#", "a.#", "#.c", "a.*.c", "a.#.c", "#.#", "a.#.#", "*.#", "#.*", "a..c", "a.*.#"],
  ".": ["#", "*.*", "#.#", "*.#", "#.*", ".", "*."],
  "a.": ["#", "a.*", "a.#", "*.*", "#.#", "a.#.#", "*.#", "#.*", "a.*.#", "*."],
  ".a": ["#", "*.*", "#.#", "*.#", "#.*"],
  "a.b.b.c": ["#", "a.#", "#.c", "a.#.c", "#.#", "a.#.#", "*.#", "#.*", "a.*.#"],
  c: ["*", "#", "#.c", "#.#", "*.#", "#.*"],
  "b.c": ["#", "#.c", "*.*", "#.#", "*.#", "#.*"],
  "a.x.y.c": ["#", "a.#", "#.c", "a.#.c", "#.#", "a.#.#", "*.#", "#.*", "a.*.#"],
};

test("topic: * is one word, # is zero or more, empty words and empty keys as RabbitMQ", async () => {
  await channel.assertExchange("rt-topic", "topic");
  const queues = await bindQueues(
    "rt-topic",
    Object.fromEntries(TOPIC_PATTERNS.map((pattern) => [pattern, { key: pattern }])),
  );
  for (const [routingKey, expected] of Object.entries(TOPIC_ROUTES)) {
    const hit = await routedTo(queues, () => channel.publish("rt-topic", routingKey, Buffer.from("x")));
    assert.deepEqual(hit, expected, `routing key '${routingKey}'`);
  }
  await channel.deleteExchange("rt-topic");
});

test("topic: unbinding one pattern leaves the others routing", async () => {
  await channel.assertExchange("rt-topic-unbind", "topic");
  const queues = await bindQueues("rt-topic-unbind", { star: { key: "a.*" }, hash: { key: "a.#" } });
  await channel.unbindQueue(queues.get("star") as string, "rt-topic-unbind", "a.*");
  assert.deepEqual(await routedTo(queues, () => channel.publish("rt-topic-unbind", "a.b", Buffer.from("x"))), ["hash"]);
  await channel.deleteExchange("rt-topic-unbind");
});

test("topic with 10,000 bindings still routes each key to exactly its queue", async () => {
  await channel.assertExchange("rt-topic-many", "topic");
  const { queue: target } = await channel.assertQueue("", { exclusive: true });
  const { queue: wildcard } = await channel.assertQueue("", { exclusive: true });
  const { queue: other } = await channel.assertQueue("", { exclusive: true });
  const binds: Array<Promise<unknown>> = [];
  for (let i = 0; i < 10_000; i++) {
    binds.push(
      channel.bindQueue(i === 4321 ? target : other, "rt-topic-many", `stock.${i}.${i % 7 === 0 ? "*" : "price"}`),
    );
  }
  binds.push(channel.bindQueue(wildcard, "rt-topic-many", "stock.#.volume"));
  await Promise.all(binds);
  assert.equal(broker.broker.core.vhosts.get("/")?.exchanges.get("rt-topic-many")?.bindings.size, 10_001);
  const queues = new Map([
    ["target", target],
    ["wildcard", wildcard],
    ["other", other],
  ]);
  assert.deepEqual(
    await routedTo(queues, () => channel.publish("rt-topic-many", "stock.4321.price", Buffer.from("x"))),
    ["target"],
  );
  assert.deepEqual(
    await routedTo(queues, () => channel.publish("rt-topic-many", "stock.4321.volume", Buffer.from("x"))),
    ["wildcard"],
  );
  // 700 % 7 === 0: bound as stock.700.*
  assert.deepEqual(
    await routedTo(queues, () => channel.publish("rt-topic-many", "stock.700.volume", Buffer.from("x"))),
    ["wildcard", "other"],
  );
  assert.deepEqual(
    await routedTo(queues, () => channel.publish("rt-topic-many", "stock.10000.price", Buffer.from("x"))),
    [],
  );
  await channel.deleteExchange("rt-topic-many");
});

const HEADER_BINDINGS: Record<string, Record<string, unknown>> = {
  all: { "x-match": "all", a: 1, b: "x" },
  any: { "x-match": "any", a: 1, b: "x" },
  defaultIsAll: { a: 1, b: "x" },
  allIgnoresX: { "x-match": "all", a: 1, "x-k": "v" },
  anyIgnoresX: { "x-match": "any", "x-k": "v" },
  allWithX: { "x-match": "all-with-x", a: 1, "x-k": "v" },
  anyWithX: { "x-match": "any-with-x", "x-k": "v" },
  emptyAll: { "x-match": "all" },
  emptyAny: { "x-match": "any" },
  stringOne: { "x-match": "all", a: "1" },
  bool: { "x-match": "all", f: true },
};
const HEADER_ROUTES: Array<[string, Record<string, unknown> | undefined, string[]]> = [
  ["no headers", undefined, ["emptyAll"]],
  ["empty headers", {}, ["emptyAll"]],
  ["a=1", { a: 1 }, ["any", "allIgnoresX", "emptyAll"]],
  ["a=1 b=x", { a: 1, b: "x" }, ["all", "any", "defaultIsAll", "allIgnoresX", "emptyAll"]],
  ["a=2 b=x", { a: 2, b: "x" }, ["any", "emptyAll"]],
  ["a='1'", { a: "1" }, ["emptyAll", "stringOne"]],
  ["x-k=v", { "x-k": "v" }, ["anyWithX", "emptyAll"]],
  ["a=1 x-k=v", { a: 1, "x-k": "v" }, ["any", "allIgnoresX", "allWithX", "anyWithX", "emptyAll"]],
  ["f=true", { f: true }, ["emptyAll", "bool"]],
  ["a=1 b=x c=3", { a: 1, b: "x", c: 3 }, ["all", "any", "defaultIsAll", "allIgnoresX", "emptyAll"]],
];

test("headers: x-match all / any / all-with-x / any-with-x, typed values, empty binding sets", async () => {
  await channel.assertExchange("rt-headers", "headers");
  const queues = await bindQueues(
    "rt-headers",
    Object.fromEntries(Object.entries(HEADER_BINDINGS).map(([name, args]) => [name, { args }])),
  );
  for (const [label, headers, expected] of HEADER_ROUTES) {
    const hit = await routedTo(queues, () =>
      channel.publish("rt-headers", "", Buffer.from("x"), headers ? { headers } : {}),
    );
    assert.deepEqual(hit, expected, label);
  }
  await channel.deleteExchange("rt-headers");
});

test("headers: a void binding value matches any value of a present header", async () => {
  await channel.assertExchange("rt-headers-void", "headers");
  const queues = await bindQueues("rt-headers-void", {
    all: { args: { "x-match": "all", a: null } },
    any: { args: { "x-match": "any", a: null, b: 2 } },
  });
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{ a: 1 }, ["all", "any"]],
    [{ a: "zz" }, ["all", "any"]],
    [{ a: null }, ["all", "any"]],
    [{ b: 1 }, []],
    [{ b: 2 }, ["any"]],
    [{}, []],
  ];
  for (const [headers, expected] of cases) {
    assert.deepEqual(
      await routedTo(queues, () => channel.publish("rt-headers-void", "", Buffer.from("x"), { headers })),
      expected,
      JSON.stringify(headers),
    );
  }
  await channel.deleteExchange("rt-headers-void");
});

test("amq.match and amq.headers are headers exchanges (amqp-client)", async () => {
  const client = await new AMQPClient(broker.url).connect();
  const ch = await client.channel();
  const { name } = await ch.queueDeclare("", { exclusive: true });
  await ch.queueBind(name, "amq.match", "", { "x-match": "any", color: "red" });
  await ch.basicPublish("amq.match", "", "red", { headers: { color: "red" } });
  await ch.basicPublish("amq.match", "", "blue", { headers: { color: "blue" } });
  const first = await waitFor(async () => (await ch.basicGet(name, { noAck: true })) ?? null);
  assert.equal(first.bodyToString(), "red");
  assert.equal(await ch.basicGet(name, { noAck: true }), null);
  await client.close();
});

test("mandatory and unroutable: basic.return 312 NO_ROUTE with the message (amqplib)", async () => {
  const returned = new Promise<amqplib.Message>((resolve) => channel.once("return", resolve));
  channel.publish("amq.direct", "nobody-home", Buffer.from("come back"), { mandatory: true, messageId: "m1" });
  const message = await returned;
  assert.deepEqual(
    { ...message.fields },
    { replyCode: 312, replyText: "NO_ROUTE", exchange: "amq.direct", routingKey: "nobody-home" },
  );
  assert.equal(message.content.toString(), "come back");
  assert.equal(message.properties.messageId, "m1");
  await channel.waitForConfirms();
});

test("mandatory to the default exchange with no such queue is returned too (amqp-client)", async () => {
  const client = await new AMQPClient(broker.url).connect();
  const ch = await client.channel();
  const returned = new Promise<AMQPMessage>((resolve) => (ch.onReturn = resolve));
  await ch.basicPublish("", "no-such-queue", "lost", {}, true);
  const message = await returned;
  assert.equal(message.replyCode, 312);
  assert.equal(message.replyText, "NO_ROUTE");
  assert.equal(message.routingKey, "no-such-queue");
  assert.equal(message.bodyToString(), "lost");
  await client.close();
});

test("a routable mandatory message is delivered, not returned; non-mandatory unroutable is dropped silently", async () => {
  let returns = 0;
  const onReturn = (): void => void returns++;
  channel.on("return", onReturn);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  channel.sendToQueue(queue, Buffer.from("x"), { mandatory: true });
  channel.publish("amq.direct", "nobody-home", Buffer.from("x"));
  await channel.waitForConfirms();
  assert.equal((await channel.checkQueue(queue)).messageCount, 1);
  assert.equal(returns, 0);
  channel.off("return", onReturn);
});

// The vhost caches a direct, fanout, topic or default exchange's route per routing key (src/core/vhost.ts,
// rememberRoute). Each test below routes a key once so that its result is cached, changes what the key
// reaches, and checks that the next publish of the same key follows the change.

/** Queues by their own names, for routedTo. */
const named = (...names: string[]): Map<string, string> => new Map(names.map((name) => [name, name]));

for (const type of ["direct", "topic", "fanout"] as const) {
  test(`route cache, ${type}: a cached route follows bind, unbind and a queue deleted and declared again`, async () => {
    const exchange = `rc-${type}`;
    const [key, pattern] = type === "topic" ? ["a.b", "a.*"] : ["a", "a"];
    const [q1, q2] = [`${exchange}-q1`, `${exchange}-q2`];
    const publish = (): boolean => channel.publish(exchange, key, Buffer.from("x"));
    await channel.assertExchange(exchange, type, { durable: false });
    await channel.assertQueue(q1, { durable: false });
    await channel.assertQueue(q2, { durable: false });
    await channel.bindQueue(q1, exchange, pattern);
    assert.deepEqual(await routedTo(named(q1, q2), publish), [q1]);
    assert.deepEqual(await routedTo(named(q1, q2), publish), [q1], "the cached route");
    await channel.bindQueue(q2, exchange, pattern);
    assert.deepEqual(await routedTo(named(q1, q2), publish), [q1, q2], "after a bind");
    await channel.unbindQueue(q1, exchange, pattern);
    assert.deepEqual(await routedTo(named(q1, q2), publish), [q2], "after an unbind");
    await channel.deleteQueue(q2);
    assert.deepEqual(await routedTo(named(q1), publish), [], "after the queue was deleted");
    await channel.assertQueue(q2, { durable: false });
    assert.deepEqual(await routedTo(named(q1, q2), publish), [], "a new queue of the name is not bound");
    await channel.bindQueue(q2, exchange, pattern);
    assert.deepEqual(await routedTo(named(q1, q2), publish), [q2], "bound again");
    await channel.deleteExchange(exchange);
    await channel.deleteQueue(q1);
    await channel.deleteQueue(q2);
  });
}

test("route cache, default exchange: a cached route follows the queue's deletion and a new queue of its name", async () => {
  const name = "rc-default";
  const publish = (): boolean => channel.publish("", name, Buffer.from("x"));
  await channel.assertQueue(name, { durable: false });
  assert.deepEqual(await routedTo(named(name), publish), [name]);
  assert.deepEqual(await routedTo(named(name), publish), [name], "the cached route");
  await channel.deleteQueue(name);
  // The deleted queue's route must not be used: a mandatory publish comes back 312 NO_ROUTE.
  const returned = new Promise<amqplib.Message>((resolve) => channel.once("return", resolve));
  channel.publish("", name, Buffer.from("y"), { mandatory: true });
  await channel.waitForConfirms();
  const fields = (await returned).fields as amqplib.MessageFields & { replyCode: number; replyText: string };
  assert.equal(fields.replyCode, 312);
  assert.equal(fields.replyText, "NO_ROUTE");
  await channel.assertQueue(name, { durable: false });
  assert.deepEqual(await routedTo(named(name), publish), [name], "the new queue of the name");
  await channel.deleteQueue(name);
});

test("route cache: only what the exchange's own bindings decided is cached, not a headers exchange behind it", async () => {
  await channel.assertExchange("rc-e2e-src", "direct", { durable: false });
  await channel.assertExchange("rc-e2e-dst", "headers", { durable: false });
  const [direct, viaHeaders] = ["rc-e2e-direct", "rc-e2e-headers"];
  await channel.assertQueue(direct, { durable: false });
  await channel.assertQueue(viaHeaders, { durable: false });
  await channel.bindQueue(direct, "rc-e2e-src", "k");
  await channel.bindExchange("rc-e2e-dst", "rc-e2e-src", "k");
  await channel.bindQueue(viaHeaders, "rc-e2e-dst", "", { "x-match": "all", colour: "red" });
  const publish = (colour: string) => (): boolean =>
    channel.publish("rc-e2e-src", "k", Buffer.from("z"), { headers: { colour } });
  // Same exchange and key, other headers: the headers exchange behind it decides each time.
  assert.deepEqual(await routedTo(named(direct, viaHeaders), publish("red")), [direct, viaHeaders]);
  assert.deepEqual(await routedTo(named(direct, viaHeaders), publish("blue")), [direct]);
  assert.deepEqual(await routedTo(named(direct, viaHeaders), publish("red")), [direct, viaHeaders]);
  await channel.deleteExchange("rc-e2e-src");
  await channel.deleteExchange("rc-e2e-dst");
  await channel.deleteQueue(direct);
  await channel.deleteQueue(viaHeaders);
});

test("route cache: an alternate exchange a policy sets after an unroutable publish of the key is used", async () => {
  await channel.assertExchange("rc-ae-main", "direct", { durable: false });
  await channel.assertExchange("rc-ae-alt", "fanout", { durable: false });
  const caught = "rc-ae-caught";
  const publish = (): boolean => channel.publish("rc-ae-main", "nowhere", Buffer.from("x"));
  await channel.assertQueue(caught, { durable: false });
  await channel.bindQueue(caught, "rc-ae-alt", "");
  assert.deepEqual(await routedTo(named(caught), publish), []);
  const response = await fetch(`${broker.broker.urls.http ?? ""}/api/policies/%2F/rc-ae`, {
    method: "PUT",
    headers: {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      pattern: "^rc-ae-main$",
      "apply-to": "exchanges",
      definition: { "alternate-exchange": "rc-ae-alt" },
    }),
  });
  assert.equal(response.status, 201);
  assert.deepEqual(await routedTo(named(caught), publish), [caught]);
  // The broker still serves another client afterwards.
  const other = await amqplib.connect(broker.url);
  await (await other.createChannel()).checkQueue(caught);
  await other.close();
});
