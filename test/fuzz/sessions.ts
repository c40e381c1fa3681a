/**
 * Valid sessions to mutate: the bytes real clients (amqplib, MQTT.js,
 * stompjs) send to a broker, captured through a recording proxy at the
 * start of a run, so the seeds always match the clients the tests use.
 */
import { once } from "node:events";
import net from "node:net";
import { Client as StompClient } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import amqplib from "amqplib";
import mqtt from "mqtt";

/** Runs `session` against a proxy to `port` and returns what the client sent. */
async function capture(port: number, session: (proxyPort: number) => Promise<void>): Promise<Buffer> {
  const sent: Buffer[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    client.on("data", (chunk: Buffer) => {
      sent.push(Buffer.from(chunk));
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    await session((server.address() as net.AddressInfo).port);
  } finally {
    server.close();
  }
  return Buffer.concat(sent);
}

export function captureAmqp(port: number): Promise<Buffer> {
  return capture(port, async (proxy) => {
    const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${proxy}`);
    const channel = await connection.createConfirmChannel();
    await channel.prefetch(10);
    await channel.assertExchange("fuzz.x", "topic", { durable: false, arguments: { "alternate-exchange": "fuzz.ae" } });
    const { queue } = await channel.assertQueue("", {
      exclusive: true,
      arguments: { "x-max-length": 100, "x-message-ttl": 60000 },
    });
    await channel.bindQueue(queue, "fuzz.x", "a.*.#", { "x-match": "any" });
    channel.publish("fuzz.x", "a.b.c", Buffer.alloc(300, 7), {
      persistent: true,
      contentType: "text/plain",
      headers: { n: 1, s: "text", list: [1, "two"], nested: { t: true } },
      priority: 3,
      correlationId: "c1",
      replyTo: "fuzz.reply",
      expiration: "60000",
      messageId: "m1",
      timestamp: 1700000000,
    });
    await channel.waitForConfirms();
    const consumed = new Promise<void>((resolve) => {
      void channel.consume(queue, (message) => {
        if (message) channel.nack(message, false, false);
        resolve();
      });
    });
    await consumed;
    channel.sendToQueue(queue, Buffer.from("again"));
    await channel.waitForConfirms();
    const got = await channel.get(queue);
    if (got) channel.ack(got);
    await channel.deleteExchange("fuzz.x");
    await channel.close();
    await connection.close();
  });
}

export function captureMqtt(port: number, protocolVersion: 4 | 5): Promise<Buffer> {
  return capture(port, async (proxy) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${proxy}`, {
      protocolVersion,
      clientId: `fuzz-${protocolVersion}`,
      username: "guest",
      password: "guest",
      clean: true,
      will: { topic: "fuzz/will", payload: Buffer.from("gone"), qos: 1, retain: false },
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0, receiveMaximum: 10 } } : {}),
    });
    await client.subscribeAsync({ "fuzz/+/a": { qos: 0 }, "fuzz/#": { qos: 1 }, "fuzz/q2": { qos: 2 } });
    await client.publishAsync("fuzz/x/a", "zero", { qos: 0 });
    await client.publishAsync("fuzz/one", Buffer.alloc(200, 1), { qos: 1, retain: true });
    await client.publishAsync("fuzz/q2", "two", {
      qos: 2,
      ...(protocolVersion === 5 ? { properties: { userProperties: { k: "v" }, contentType: "text/plain" } } : {}),
    });
    await client.unsubscribeAsync("fuzz/#");
    await client.publishAsync("fuzz/one", Buffer.alloc(0), { qos: 1, retain: true });
    await client.endAsync();
  });
}

export function captureStomp(port: number): Promise<Buffer> {
  return capture(port, async (proxy) => {
    const client = new StompClient({
      connectHeaders: { login: "guest", passcode: "guest", host: "/" },
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      reconnectDelay: 0,
      webSocketFactory: () => new TCPWrapper("127.0.0.1", proxy),
    });
    await new Promise<void>((resolve, reject) => {
      client.onConnect = () => resolve();
      client.onStompError = (frame) => reject(new Error(frame.headers["message"]));
      client.activate();
    });
    const received = new Promise<void>((resolve) => {
      client.subscribe(
        "/queue/fuzz-stomp",
        (message) => {
          message.nack({ requeue: "false" });
          resolve();
        },
        { ack: "client-individual" },
      );
    });
    client.subscribe("/topic/fuzz.*", () => undefined);
    const receipt = new Promise<void>((resolve) => client.watchForReceipt("r1", () => resolve()));
    client.publish({
      destination: "/queue/fuzz-stomp",
      body: "hello\nworld",
      headers: { receipt: "r1", persistent: "true", "x-h": "a:b" },
    });
    await Promise.all([receipt, received]);
    client.begin("tx1");
    client.publish({
      destination: "/exchange/amq.topic/fuzz.t",
      binaryBody: new Uint8Array([0, 1, 2]),
      headers: { transaction: "tx1" },
    });
    client.commit("tx1");
    await client.deactivate();
  });
}
