import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import mqttPacket, { type Packet } from "mqtt-packet";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

/**
 * Many simultaneous connections (bench/mqtt-fan-in.mjs measures 10,000 and
 * the memory they cost): 1,000 subscribers all receive one fan-out message,
 * and all their publishes reach one subscriber.
 */
const COUNT = 1000;

const warren = useBroker();

interface Client {
  socket: Socket;
  publishes: Array<{ topic: string; payload: string }>;
}

function open(port: number, clientId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const client: Client = { socket, publishes: [] };
    const parser = mqttPacket.parser();
    parser.on("packet", (packet: Packet) => {
      if (packet.cmd === "connack") resolve(client);
      else if (packet.cmd === "publish")
        client.publishes.push({ topic: packet.topic, payload: packet.payload.toString() });
    });
    socket.on("data", (chunk: Buffer) => parser.parse(chunk));
    socket.on("error", reject);
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId,
        clean: true,
        keepalive: 0,
      }),
    );
  });
}

test(`${COUNT} simultaneous connections: a fan-out message reaches every one, and all their publishes fan in`, async () => {
  const port = warren.broker.broker.ports.mqtt as number;
  const clients: Client[] = [];
  for (let i = 0; i < COUNT; i += 250) {
    clients.push(...(await Promise.all(Array.from({ length: 250 }, (_, j) => open(port, `many-${i + j}`)))));
  }
  const sink = await open(port, "many-sink");
  const subscribe = (c: Client, topic: string): void => {
    c.socket.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
  };
  for (const c of clients) subscribe(c, "broadcast/all");
  subscribe(sink, "fanin/+");
  const queues = (): number =>
    [...(warren.broker.broker.core.vhosts.get("/")?.queues.keys() ?? [])].filter((n) =>
      n.startsWith("mqtt-subscription-many-"),
    ).length;
  await waitFor(() => queues() === COUNT + 1, 20_000);
  assert.equal(warren.broker.broker.core.connections.size, COUNT + 1);

  sink.socket.write(
    mqttPacket.generate({
      cmd: "publish",
      topic: "broadcast/all",
      payload: Buffer.from("hello all"),
      qos: 0,
      retain: false,
      dup: false,
    }),
  );
  await waitFor(() => clients.every((c) => c.publishes.length === 1), 20_000);
  assert.ok(clients.every((c) => c.publishes[0]?.payload === "hello all"));

  clients.forEach((c, i) =>
    c.socket.write(
      mqttPacket.generate({
        cmd: "publish",
        topic: `fanin/${i}`,
        payload: Buffer.from(String(i)),
        qos: 0,
        retain: false,
        dup: false,
      }),
    ),
  );
  await waitFor(() => sink.publishes.length === COUNT, 20_000);
  assert.equal(new Set(sink.publishes.map((p) => p.payload)).size, COUNT, "each publisher's message arrived once");

  for (const c of [...clients, sink]) c.socket.destroy();
  await waitFor(() => warren.broker.broker.core.connections.size === 0 && queues() === 0, 20_000);
});
