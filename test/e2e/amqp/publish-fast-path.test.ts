import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { ConnectionClose } from "../../../src/amqp/codec/index.js";
import type { BufferWriter } from "../../../src/amqp/codec/buffer-writer.js";
import { nextError, openChannel } from "../../helpers/amqp-errors.js";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";

// The basic.publish fast path (src/amqp/publish-decoder.ts) caches, per
// channel, the exchange it resolved and the write-permission verdict. These
// tests change what the cache depends on between two publishes of one
// channel and check that the second publish sees the change.

const USER = "fast-path";
const PASSWORD = "pw";
let broker: TestBroker;
let admin: amqplib.ChannelModel;
before(async () => {
  broker = await TestBroker.start({ users: [{ name: USER, password: PASSWORD }] });
  broker.broker.core.users.setPermissions(USER, "/", { configure: ".*", write: ".*", read: ".*" });
  admin = await amqplib.connect(broker.url);
});
after(async () => {
  await admin.close();
  await broker.stop();
});

/** A fanout exchange bound to a fresh queue; returns a function counting the messages that reached it. */
async function boundExchange(name: string): Promise<{ queue: string; count: () => Promise<number> }> {
  const channel = await admin.createChannel();
  await channel.assertExchange(name, "fanout", { autoDelete: false });
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, name, "");
  return { queue, count: async () => (await channel.checkQueue(queue)).messageCount };
}

test("a publish to an exchange deleted since the previous publish of the channel is 404", async () => {
  const target = await boundExchange("fast-deleted");
  const connection = await amqplib.connect(broker.url);
  const channel = await openChannel(connection);
  for (let i = 0; i < 3; i++) channel.publish("fast-deleted", "", Buffer.from(`m${i}`));
  await waitFor(async () => (await target.count()) === 3);
  const other = await admin.createChannel();
  await other.deleteExchange("fast-deleted");
  const error = nextError(channel);
  channel.publish("fast-deleted", "", Buffer.from("after delete"));
  assert.deepEqual(await error, { code: 404, text: "NOT_FOUND - no exchange 'fast-deleted' in vhost '/'" });
  // declared again: a new channel of the same connection publishes to the new exchange
  await other.assertExchange("fast-deleted", "fanout", { autoDelete: false });
  await other.bindQueue(target.queue, "fast-deleted", "");
  const again = await connection.createChannel();
  again.publish("fast-deleted", "", Buffer.from("new exchange"));
  await waitFor(async () => (await target.count()) === 4);
  await other.deleteExchange("fast-deleted");
  await connection.close();
});

test("an exchange deleted and declared again as internal refuses the next publish with 403", async () => {
  const target = await boundExchange("fast-internal");
  const connection = await amqplib.connect(broker.url);
  const channel = await openChannel(connection);
  channel.publish("fast-internal", "", Buffer.from("before"));
  await waitFor(async () => (await target.count()) === 1);
  const other = await admin.createChannel();
  await other.deleteExchange("fast-internal");
  await other.assertExchange("fast-internal", "fanout", { internal: true });
  const error = nextError(channel);
  channel.publish("fast-internal", "", Buffer.from("after"));
  assert.deepEqual(await error, {
    code: 403,
    text: "ACCESS_REFUSED - cannot publish to internal exchange 'fast-internal' in vhost '/'",
  });
  await other.deleteExchange("fast-internal");
  await connection.close();
});

test("write permission revoked while a channel publishes refuses its next publish with 403", async () => {
  const target = await boundExchange("fast-perm");
  const connection = await amqplib.connect(broker.urlFor(USER, PASSWORD));
  const channel = await openChannel(connection);
  channel.publish("fast-perm", "", Buffer.from("allowed"));
  await waitFor(async () => (await target.count()) === 1);
  const users = broker.broker.core.users;
  users.setPermissions(USER, "/", { configure: ".*", write: "^nothing$", read: ".*" });
  const error = nextError(channel);
  channel.publish("fast-perm", "", Buffer.from("refused"));
  assert.deepEqual(await error, {
    code: 403,
    text: `ACCESS_REFUSED - access to exchange 'fast-perm' in vhost '/' refused for user '${USER}'`,
  });
  // permissions cleared altogether: refused as well
  users.setPermissions(USER, "/", { configure: ".*", write: ".*", read: ".*" });
  const second = await openChannel(connection);
  second.publish("fast-perm", "", Buffer.from("allowed again"));
  await waitFor(async () => (await target.count()) === 2);
  users.clearPermissions(USER, "/");
  const cleared = nextError(second);
  second.publish("fast-perm", "", Buffer.from("refused"));
  assert.deepEqual(await cleared, {
    code: 403,
    text: `ACCESS_REFUSED - access to exchange 'fast-perm' in vhost '/' refused for user '${USER}'`,
  });
  users.setPermissions(USER, "/", { configure: ".*", write: ".*", read: ".*" });
  await connection.close();
  await (await admin.createChannel()).deleteExchange("fast-perm");
});

test("publishes alternating exchanges and routing keys reach the right queues", async () => {
  const channel = await admin.createChannel();
  const queues: string[] = [];
  for (let i = 0; i < 3; i++) queues.push((await channel.assertQueue("", { exclusive: true })).queue);
  const connection = await amqplib.connect(broker.url);
  const publisher = await connection.createChannel();
  const order = [0, 0, 1, 2, 2, 1, 0, 2];
  for (const [n, i] of order.entries()) {
    // the default exchange and amq.direct alternate too (both route by queue name here)
    if (n % 2 === 0) publisher.sendToQueue(queues[i] as string, Buffer.from(String(n)));
    else {
      await channel.bindQueue(queues[i] as string, "amq.direct", queues[i] as string);
      publisher.publish("amq.direct", queues[i] as string, Buffer.from(String(n)));
    }
  }
  const got: string[][] = [[], [], []];
  for (let i = 0; i < 3; i++) {
    await channel.consume(
      queues[i] as string,
      (message) => {
        if (message)
          got[i]?.push(`${message.fields.exchange}:${message.fields.routingKey}:${message.content.toString()}`);
      },
      { noAck: true },
    );
  }
  await waitFor(() => got.flat().length === order.length);
  const expected: string[][] = [[], [], []];
  for (const [n, i] of order.entries()) {
    expected[i]?.push(`${n % 2 === 0 ? "" : "amq.direct"}:${queues[i]}:${n}`);
  }
  assert.deepEqual(got, expected);
  await connection.close();
  await channel.close();
});

/** Sends one method frame written by `write` on a fresh channel 1 and returns the connection.close it earns. */
async function closeFor(write: (w: BufferWriter) => void): Promise<object> {
  const raw = await RawAmqp.connect(broker.port);
  await raw.handshake();
  await raw.openChannel(1);
  raw.send((w) => {
    const start = w.beginFrame(1, 1);
    write(w);
    w.endFrame(start);
  });
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  raw.closeOk();
  await raw.waitClosed();
  return { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId };
}

test("a malformed basic.publish (a trailing octet) is 501 FRAME_ERROR 'cannot decode', as RabbitMQ answers", async () => {
  const close = await closeFor((w) => {
    w.u32(M.BASIC_PUBLISH);
    w.u16(0);
    w.shortstr("");
    w.shortstr("q");
    w.u8(0);
    w.u8(7);
  });
  // RabbitMQ 3.10 (127.0.0.1:5673) sent exactly this close for the same frame.
  assert.deepEqual(close, {
    code: 501,
    text: "FRAME_ERROR - cannot decode <<0,0,0,1,113,0,7>>",
    classId: 60,
    methodId: 40,
  });
});

test("a malformed basic.ack (a trailing octet) is 501 FRAME_ERROR 'cannot decode', as RabbitMQ answers", async () => {
  const close = await closeFor((w) => {
    w.u32(M.BASIC_ACK);
    w.u64(1);
    w.u8(0);
    w.u8(7);
  });
  // RabbitMQ 3.10 (127.0.0.1:5673) sent exactly this close for the same frame: the ack fast path falls back to it.
  assert.deepEqual(close, {
    code: 501,
    text: "FRAME_ERROR - cannot decode <<0,0,0,0,0,0,0,1,0,7>>",
    classId: 60,
    methodId: 80,
  });
  const channel = await admin.createChannel();
  assert.equal((await channel.assertQueue("", { exclusive: true })).messageCount, 0);
  await channel.close();
});

test("bodies on both sides of the small-content path arrive byte for byte with their properties", async () => {
  // Deliveries of up to 64 bytes are written with their header in one piece (properties.ts writeContentFrames).
  const channel = await admin.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const sizes = [0, 1, 63, 64, 65, 4096, 140_000];
  for (const [i, size] of sizes.entries()) {
    const body = Buffer.alloc(size, i + 1);
    if (size > 0) body[size - 1] = 0xce;
    channel.sendToQueue(queue, body, { contentType: "x/y", headers: { n: i }, messageId: `m${i}` });
  }
  const got: Array<{ size: number; ok: boolean; n: unknown; id: unknown; type: unknown }> = [];
  await channel.consume(
    queue,
    (m) => {
      if (m === null) return;
      const i = got.length;
      const size = sizes[i] as number;
      const want = Buffer.alloc(size, i + 1);
      if (size > 0) want[size - 1] = 0xce;
      got.push({
        size: m.content.length,
        ok: m.content.equals(want),
        n: m.properties.headers?.["n"],
        id: m.properties.messageId,
        type: m.properties.contentType,
      });
      channel.ack(m);
    },
    { noAck: false },
  );
  await waitFor(() => got.length === sizes.length);
  assert.deepEqual(
    got,
    sizes.map((size, i) => ({ size, ok: true, n: i, id: `m${i}`, type: "x/y" })),
  );
  await channel.close();
});
