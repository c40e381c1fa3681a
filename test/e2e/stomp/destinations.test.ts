import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { RawStompClient } from "./raw-client.js";
import { useStompBroker } from "./stomp-broker.js";

const stomp = useStompBroker();

const vhost = () => stomp.broker.broker.core.vhosts.get("/")!;

test("/queue/<name> is declared on demand, durable and shared, as RabbitMQ does", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SEND", { destination: "/queue/on-demand", receipt: "r" }, "one");
  await client.frame();
  const queue = vhost().queues.get("on-demand")!;
  assert.equal(queue.durable, true);
  assert.equal(queue.autoDelete, false);
  assert.equal(queue.exclusiveOwner, null);
  client.send("SUBSCRIBE", { destination: "/queue/on-demand", id: "q" });
  const message = await client.frame();
  assert.equal(message.headers.destination, "/queue/on-demand");
  assert.equal(message.body.toString(), "one");
  client.close();
});

test("/queue/<name> takes queue arguments and flags from headers", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", {
    destination: "/queue/with-args",
    id: "a",
    durable: "false",
    "auto-delete": "true",
    "x-max-length": "5",
    receipt: "r",
  });
  await client.frame();
  const queue = vhost().queues.get("with-args")!;
  assert.equal(queue.durable, false);
  assert.equal(queue.autoDelete, true);
  assert.equal(queue.arguments["x-max-length"], 5);
  client.close();
});

test("/amq/queue/<name> uses an existing queue only, and a missing one is a fatal not_found", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/amq/queue/missing", id: "m" });
  const error = await client.frame();
  assert.equal(error.headers.message, "not_found");
  assert.equal(error.body.toString(), "NOT_FOUND - no queue 'missing' in vhost '/'");
  await client.closedByServer();
  const amqp = await amqplib.connect(stomp.broker.url);
  const channel = await amqp.createChannel();
  await channel.assertQueue("made-by-amqp", { durable: false });
  const { client: second } = await RawStompClient.login(stomp.port);
  second.send("SUBSCRIBE", { destination: "/amq/queue/made-by-amqp", id: "x" });
  second.send("SEND", { destination: "/amq/queue/made-by-amqp" }, "via amq/queue");
  assert.equal((await second.frame()).body.toString(), "via amq/queue");
  second.close();
  await amqp.close();
});

test("/topic/<key> routes through amq.topic; each subscription gets its own exclusive auto-delete queue", async () => {
  const { client: a } = await RawStompClient.login(stomp.port);
  const { client: b } = await RawStompClient.login(stomp.port);
  a.send("SUBSCRIBE", { destination: "/topic/news.*", id: "a", receipt: "ra" });
  b.send("SUBSCRIBE", { destination: "/topic/news.sport", id: "b", receipt: "rb" });
  await a.frame();
  await b.frame();
  a.send("SEND", { destination: "/topic/news.sport" }, "goal");
  const [ma, mb] = [await a.frame(), await b.frame()];
  assert.equal(ma.body.toString(), "goal");
  assert.equal(mb.body.toString(), "goal");
  assert.equal(ma.headers.destination, "/topic/news.sport");
  const queues = [...vhost().queues.values()].filter((q) => q.name.startsWith("stomp-subscription-"));
  assert.equal(queues.length, 2);
  for (const queue of queues) {
    assert.equal(queue.autoDelete, true);
    assert.notEqual(queue.exclusiveOwner, null);
  }
  a.close();
  b.close();
  await waitFor(() => ![...vhost().queues.keys()].some((name) => name.startsWith("stomp-subscription-")));
});

test("a durable topic subscription keeps its queue across sessions and needs an id", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/topic/durable.key", durable: "true" });
  const error = await client.frame();
  assert.equal(error.headers.message, "Missing Header");
  assert.equal(error.body.toString(), "Header 'id' is required for durable subscriptions");
  client.send("SUBSCRIBE", {
    destination: "/topic/durable.key",
    id: "keep",
    durable: "true",
    "auto-delete": "false",
    receipt: "r",
  });
  await client.frame();
  client.close();
  await waitFor(() => stomp.broker.broker.core.connections.size === 0);
  const { client: publisher } = await RawStompClient.login(stomp.port);
  publisher.send("SEND", { destination: "/topic/durable.key", receipt: "p" }, "kept while away");
  await publisher.frame();
  publisher.close();
  const { client: back } = await RawStompClient.login(stomp.port);
  back.send("SUBSCRIBE", { destination: "/topic/durable.key", id: "keep", durable: "true", "auto-delete": "false" });
  assert.equal((await back.frame()).body.toString(), "kept while away");
  back.send("UNSUBSCRIBE", { id: "keep", durable: "true", receipt: "gone" });
  await back.frame();
  assert.equal(
    [...vhost().queues.keys()].some((name) => name.startsWith("stomp-subscription-")),
    false,
  );
  back.close();
});

test("/exchange/<name>/<pattern> binds to that exchange; x-queue-name names the queue; a missing exchange is not_found", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", {
    destination: "/exchange/amq.direct/blue",
    id: "d",
    "x-queue-name": "my-named-queue",
    receipt: "r",
  });
  await client.frame();
  assert.ok(vhost().queues.has("my-named-queue"));
  client.send("SEND", { destination: "/exchange/amq.direct/blue" }, "to blue");
  client.send("SEND", { destination: "/exchange/amq.direct/red" }, "to red");
  const message = await client.frame();
  assert.equal(message.body.toString(), "to blue");
  assert.equal(message.headers.destination, "/exchange/amq.direct/blue");
  client.send("SEND", { destination: "/exchange/nonexistent/x" }, "lost");
  const error = await client.frame();
  assert.equal(error.headers.message, "not_found");
  assert.equal(error.body.toString(), "NOT_FOUND - no exchange 'nonexistent' in vhost '/'");
  await client.closedByServer();
});

test("invalid and unknown destinations get RabbitMQ's ERROR texts and the session continues", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SEND", { destination: "/bogus/x" }, "x");
  const unknown = await client.frame();
  assert.equal(unknown.headers.message, "Unknown destination");
  assert.equal(
    unknown.body.toString(),
    "'/bogus/x' is not a valid destination.\nValid destination types are: /temp-queue, /exchange, /topic, /queue, /amq/queue, /reply-queue/.\n",
  );
  client.send("SEND", { destination: "/queue/" }, "x");
  assert.equal((await client.frame()).body.toString(), "'/' is not a valid queue destination\n");
  client.send("SEND", { destination: "/temp-queue/t" }, "x");
  assert.equal((await client.frame()).body.toString(), "'/temp-queue/t' is not a valid destination for 'SEND'\n");
  client.send("SEND", {}, "x");
  const missing = await client.frame();
  assert.equal(missing.headers.message, "Missing destination");
  assert.equal(missing.body.toString(), "\"SEND\" must include a 'destination' header\n");
  client.send("SEND", { destination: "/queue/after-errors", receipt: "fine" }, "x");
  assert.equal((await client.frame()).headers["receipt-id"], "fine");
  client.close();
});

test("reply-to /temp-queue/<name> creates a private reply queue; replies come back on that subscription", async () => {
  const { client: requester } = await RawStompClient.login(stomp.port);
  const { client: responder } = await RawStompClient.login(stomp.port);
  responder.send("SUBSCRIBE", { destination: "/queue/rpc", id: "server", receipt: "r" });
  await responder.frame();
  requester.send("SEND", { destination: "/queue/rpc", "reply-to": "/temp-queue/answers" }, "question");
  const request = await responder.frame();
  const replyTo = request.headers["reply-to"] ?? "";
  assert.match(replyTo, /^\/reply-queue\/amq\.gen-/);
  responder.send("SEND", { destination: replyTo }, "answer");
  const reply = await requester.frame();
  assert.equal(reply.headers.subscription, "/temp-queue/answers");
  assert.equal(reply.body.toString(), "answer");
  requester.close();
  responder.close();
});

test("a user without permission gets access_refused", async () => {
  stomp.broker.broker.core.users.addUser("limited", "pw", []);
  stomp.broker.broker.core.users.setPermissions("limited", "/", { configure: "^$", write: "^$", read: "^$" });
  const { client } = await RawStompClient.login(stomp.port, { login: "limited", passcode: "pw" });
  client.send("SEND", { destination: "/topic/x" }, "x");
  const error = await client.frame();
  assert.equal(error.headers.message, "access_refused");
  assert.equal(
    error.body.toString(),
    "ACCESS_REFUSED - access to exchange 'amq.topic' in vhost '/' refused for user 'limited'",
  );
  await client.closedByServer();
});
