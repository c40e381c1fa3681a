import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { ConnectionClose, ConnectionStart } from "../../../src/amqp/codec/index.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";

// Expected texts were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same frames.
const warren = useBroker(
  {
    users: [
      { name: "alice", password: "s3cret" },
      { name: "nobody", password: "pw" },
    ],
  },
  async (broker) => {
    broker.broker.core.addVhost("other");
    broker.broker.core.users.clearPermissions("nobody", "/");
  },
);

const SERVER_HEADER = Buffer.from("AMQP\x00\x00\x09\x01", "latin1");

test("a wrong protocol header gets the server's own header back, then the socket closes", async () => {
  for (const header of [Buffer.from("AMQP\x00\x00\x09\x00", "latin1"), Buffer.from("GET / HTTP/1.1\r\n\r\n")]) {
    const raw = await RawAmqp.connect(warren.broker.port);
    raw.write(header);
    await raw.waitClosed();
    assert.deepEqual(raw.received, SERVER_HEADER);
  }
});

test("connection.start advertises 0-9, PLAIN and AMQPLAIN, en_US and RabbitMQ's capabilities", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  raw.sendHeader();
  const start = await raw.expectMethod<ConnectionStart>(M.CONNECTION_START);
  raw.destroy();
  assert.equal(start.versionMajor, 0);
  assert.equal(start.versionMinor, 9);
  assert.equal(start.mechanisms, "PLAIN AMQPLAIN");
  assert.equal(start.locales, "en_US");
  assert.deepEqual(start.serverProperties["capabilities"], {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    "basic.nack": true,
    consumer_cancel_notify: true,
    "connection.blocked": true,
    consumer_priorities: true,
    authentication_failure_close: true,
    per_consumer_qos: true,
    direct_reply_to: true,
  });
  for (const key of ["product", "version", "platform", "copyright", "information", "cluster_name"]) {
    assert.equal(typeof start.serverProperties[key], "string", key);
  }
});

test("amqplib sees the server properties after connecting", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const properties = connection.connection.serverProperties as unknown as Record<string, unknown>;
  assert.equal(properties["product"], "Warren");
  await connection.close();
});

test("PLAIN login with a user created by startBroker({ users }) works with amqp-client", async () => {
  const client = new AMQPClient(warren.broker.urlFor("alice", "s3cret"));
  const connection = await client.connect();
  const channel = await connection.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  await channel.basicPublish("", name, "hi");
  const message = await channel.basicGet(name, { noAck: true });
  assert.equal(message?.bodyToString(), "hi");
  await connection.close();
});

test("AMQPLAIN login over a raw socket reaches connection.open-ok", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  const { tune } = await raw.handshake({ mechanism: "AMQPLAIN", user: "alice", password: "s3cret" });
  assert.equal(tune.frameMax, 131072);
  await raw.openChannel(1);
  raw.close();
  await raw.expectMethod(M.CONNECTION_CLOSE_OK);
  raw.destroy();
});

test("a wrong password is refused with 403 ACCESS_REFUSED (PLAIN, amqplib)", async () => {
  await assert.rejects(amqplib.connect(warren.broker.urlFor("alice", "wrong")), (error: Error) => {
    assert.match(
      error.message,
      /403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN\. For details see the broker logfile\."/,
    );
    return true;
  });
});

test("a wrong password over AMQPLAIN is refused with 403 naming AMQPLAIN, and classId/methodId 0", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.startHandshake({ mechanism: "AMQPLAIN", user: "alice", password: "nope" });
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(
    { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
    {
      code: 403,
      text: "ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. For details see the broker logfile.",
      classId: 0,
      methodId: 0,
    },
  );
  await raw.waitClosed();
});

test("an unknown user is refused like a wrong password (amqp-client)", async () => {
  const client = new AMQPClient(warren.broker.urlFor("mallory", "x"));
  await assert.rejects(client.connect(), /ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
});

test("a client without authentication_failure_close is just disconnected on bad credentials, 3 s later as RabbitMQ 3.10 (observed on the reference node)", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  const sent = Date.now();
  await raw.startHandshake({ user: "alice", password: "nope", clientProperties: {} });
  assert.equal(await raw.nextFrame(), null);
  // rabbit_reader's ?SILENT_CLOSE_DELAY; a lower bound only (a timer never fires early).
  assert.ok(Date.now() - sent >= 2900, `closed after ${Date.now() - sent} ms`);
});

test("opening a vhost that does not exist is 530 NOT_ALLOWED 'vhost x not found' naming connection.open", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.startHandshake();
  raw.tuneOk(await raw.expectMethod(M.CONNECTION_TUNE));
  raw.open("x");
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(
    { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
    { code: 530, text: "NOT_ALLOWED - vhost x not found", classId: 10, methodId: 40 },
  );
  raw.closeOk();
  await raw.waitClosed();
});

test("amqplib opening a missing vhost fails and the broker still serves others", async () => {
  await assert.rejects(amqplib.connect(`${warren.broker.url}/missing`), /ConnectionClose|530|vhost/);
  const connection = await amqplib.connect(warren.broker.url);
  await connection.close();
});

test("a vhost the user has no permissions on is 530 'access to vhost refused'", async () => {
  for (const [user, password, vhost] of [
    ["nobody", "pw", "/"],
    ["alice", "s3cret", "other"],
  ] as const) {
    const raw = await RawAmqp.connect(warren.broker.port);
    await raw.startHandshake({ user, password });
    raw.tuneOk(await raw.expectMethod(M.CONNECTION_TUNE));
    raw.open(vhost);
    const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
    assert.equal(close.replyCode, 530);
    assert.equal(close.replyText, `NOT_ALLOWED - access to vhost '${vhost}' refused for user '${user}'`);
    raw.destroy();
  }
});

test("granting permissions on another vhost lets the user in there", async () => {
  warren.broker.broker.core.users.setPermissions("alice", "other", { configure: ".*", write: ".*", read: ".*" });
  const connection = await amqplib.connect(warren.broker.urlFor("alice", "s3cret", "other"));
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  assert.ok(warren.broker.broker.core.vhosts.get("other")?.queues.has(queue));
  assert.ok(!warren.broker.broker.core.vhosts.get("/")?.queues.has(queue));
  await connection.close();
});
