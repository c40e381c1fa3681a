import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/**
 * Before a CONNECT is accepted a packet may be at most 64 KiB (RabbitMQ's
 * mqtt.max_packet_size_unauthenticated); a client that declares a 120 MB
 * CONNECT and streams it used to be buffered by the broker before any login.
 */
const warren = useBroker();
const port = (): number => warren.broker.broker.ports.mqtt as number;

/** A CONNECT fixed header declaring `remainingLength` bytes to follow. */
function connectHeader(remainingLength: number): Buffer {
  const bytes = [0x10];
  let n = remainingLength;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    bytes.push(digit);
  } while (n > 0);
  return Buffer.from(bytes);
}

async function open(): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port: port() });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => undefined);
  return socket;
}

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));

/** A valid MQTT 3.1.1 CONNECT of exactly `size` bytes (the will payload pads it). */
function connectOfSize(clientId: string, size: number): Buffer {
  const base = (pad: number) =>
    mqttPacket.generate({
      cmd: "connect",
      clientId,
      protocolVersion: 4,
      protocolId: "MQTT",
      clean: true,
      keepalive: 0,
      will: { topic: "limit/will", payload: Buffer.alloc(pad, 0x61), qos: 0, retain: false },
    });
  let pad = size - base(0).length;
  // The Remaining Length varint grows by a byte past 16,383: settle the padding.
  while (base(pad).length > size) pad--;
  const packet = base(pad);
  assert.equal(packet.length, size);
  return packet;
}

test("a CONNECT declaring 120 MB is refused from its first bytes: the socket closes, nothing is buffered", async () => {
  const socket = await open();
  socket.write(Buffer.concat([connectHeader(120 * 1024 * 1024), Buffer.alloc(100)]));
  await closed(socket);
  assert.ok(warren.broker.logs.some((l) => l.msg === "closing MQTT connection: packet too large before CONNECT"));
});

test("the limit before CONNECT is 64 KiB: a CONNECT of 65,536 bytes is accepted, 65,537 is not", async () => {
  const fits = await RawMqttClient.open(port(), 4);
  fits.sendRaw(connectOfSize("limit-fits", 65_536));
  assert.equal((await fits.next("connack")).returnCode, 0);
  fits.destroy();

  const over = await RawMqttClient.open(port(), 4);
  over.sendRaw(connectOfSize("limit-over", 65_537));
  await over.waitClosed();
  assert.equal(over.count("connack"), 0);
});

test("after CONNECT the configured maximum applies: a 1 MB PUBLISH, even in the CONNECT's chunk, is delivered", async () => {
  const subscriber = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, { clientId: "limit-sub" });
  const got: number[] = [];
  subscriber.on("message", (_topic, payload) => got.push(payload.length));
  await subscriber.subscribeAsync("limit/big", { qos: 1 });
  const raw = await RawMqttClient.open(port(), 4);
  // CONNECT and the large PUBLISH written together: the PUBLISH is judged by the limit after login.
  raw.sendRaw(
    Buffer.concat([
      mqttPacket.generate({
        cmd: "connect",
        clientId: "limit-pub",
        protocolVersion: 4,
        protocolId: "MQTT",
        clean: true,
        keepalive: 0,
      }),
      mqttPacket.generate({
        cmd: "publish",
        topic: "limit/big",
        payload: Buffer.alloc(1024 * 1024, 7),
        qos: 1,
        messageId: 1,
        retain: false,
        dup: false,
      }),
    ]),
  );
  await raw.next("connack");
  await raw.next("puback");
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, [1024 * 1024]);
  raw.destroy();
  await subscriber.endAsync();
});

test("four clients streaming 16 MB CONNECTs each do not grow the broker's memory by what they send", async () => {
  const chunk = Buffer.alloc(64 * 1024);
  const perClient = 16 * 1024 * 1024;
  const rssBefore = process.memoryUsage().rss;
  const stream = async (): Promise<number> => {
    const socket = await open();
    let sent = 0;
    let gone = false;
    socket.once("close", () => (gone = true));
    const write = (bytes: Buffer) => new Promise<boolean>((resolve) => socket.write(bytes, (error) => resolve(!error)));
    if (!(await write(connectHeader(120 * 1024 * 1024)))) return sent;
    while (!gone && sent < perClient && (await write(chunk))) sent += chunk.length;
    await closed(socket);
    return sent;
  };
  await Promise.all([stream(), stream(), stream(), stream()]);
  const growth = process.memoryUsage().rss - rssBefore;
  // Without the limit the broker (this process) held every byte sent: 64 MB or more.
  assert.ok(growth < 32 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string);
  await client.publishAsync("limit/after", "still serving", { qos: 1 });
  await client.endAsync();
});
