import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawStompClient } from "./raw-client.js";
import { STOMP_BROKER_OPTIONS, stompPortOf } from "./stomp-broker.js";

/**
 * Topic permissions on STOMP, frame for frame as RabbitMQ 3.10 answered the
 * same user and destinations (61623): SEND to /topic/ or /exchange/<topic x>/
 * with a key outside the write pattern, and SUBSCRIBE with a key outside the
 * read pattern, are ERROR "access_refused" and the session ends. The body of
 * a refused /topic/ subscription is the bare text (the plugin checks it
 * itself); the others come from the AMQP channel ("ACCESS_REFUSED - ...").
 */
const warren = useBroker(STOMP_BROKER_OPTIONS, async (broker) => {
  const users = broker.broker.core.users;
  users.addUser("topic-stomp", "pw");
  users.setPermissions("topic-stomp", "/", { configure: ".*", write: ".*", read: ".*" });
  users.setTopicPermissions("topic-stomp", "/", "amq.topic", { write: "^allowed", read: "^r\\." });
});

const port = (): number => stompPortOf(warren.broker);
const text = (key: string): string =>
  `access to topic '${key}' in exchange 'amq.topic' in vhost '/' refused for user 'topic-stomp'`;
const login = () => RawStompClient.login(port(), { login: "topic-stomp", passcode: "pw" });

async function expectRefusal(client: RawStompClient, body: string): Promise<void> {
  const error = await client.frame();
  assert.equal(error.command, "ERROR");
  assert.equal(error.headers["message"], "access_refused");
  assert.equal(error.body.toString(), body);
  await client.closedByServer();
}

/** guest, with no topic permissions, still sends to and receives from the same topic. */
async function assertOthersServed(key: string): Promise<void> {
  const { client } = await RawStompClient.login(port());
  client.send("SUBSCRIBE", { destination: `/topic/${key}`, id: "ok", receipt: "sub" });
  assert.equal((await client.frame()).command, "RECEIPT");
  client.send("SEND", { destination: `/topic/${key}` }, "ok");
  const message = await client.frame();
  assert.deepEqual([message.command, message.body.toString()], ["MESSAGE", "ok"]);
  client.close();
}

test("SEND to /topic/ and /exchange/amq.topic/ outside the write pattern: ERROR access_refused, session closed", async () => {
  const first = (await login()).client;
  first.send("SEND", { destination: "/topic/denied.x", receipt: "r1" }, "no");
  await expectRefusal(first, `ACCESS_REFUSED - ${text("denied.x")}`);
  const second = (await login()).client;
  second.send("SEND", { destination: "/exchange/amq.topic/denied.y" }, "no");
  await expectRefusal(second, `ACCESS_REFUSED - ${text("denied.y")}`);
  await assertOthersServed("denied.x");
});

test("SUBSCRIBE outside the read pattern is refused and leaves no subscription queue behind", async () => {
  const queuesBefore = warren.broker.broker.core.vhosts.get("/")!.queues.size;
  const first = (await login()).client;
  first.send("SUBSCRIBE", { destination: "/topic/z.x", id: "1", receipt: "r2" });
  await expectRefusal(first, text("z.x"));
  const second = (await login()).client;
  second.send("SUBSCRIBE", {
    destination: "/exchange/amq.topic/z.x",
    id: "1",
    durable: "true",
    "auto-delete": "false",
  });
  await expectRefusal(second, `ACCESS_REFUSED - ${text("z.x")}`);
  assert.equal(warren.broker.broker.core.vhosts.get("/")!.queues.size, queuesBefore);
  await assertOthersServed("z.x");
});

test("SUBSCRIBE and SEND within the patterns work for the restricted user", async () => {
  const { client } = await login();
  client.send("SUBSCRIBE", { destination: "/topic/r.x", id: "1", receipt: "sub" });
  assert.equal((await client.frame()).command, "RECEIPT");
  client.send("SEND", { destination: "/topic/allowed.x", receipt: "sent" }, "hi");
  assert.equal((await client.frame()).command, "RECEIPT");
  client.close();
});
