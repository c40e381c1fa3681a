/**
 * Memory before login (issue 11): a client that has not logged in may not
 * make the broker buffer a large frame. AMQP holds frames to the spec's
 * frame-min (4096) until tune-ok, as RabbitMQ's initial_frame_max; STOMP
 * allows 64 KiB before CONNECTED; a WebSocket's first message (its CONNECT)
 * is cut at 64 KiB on the raw socket, before ws has buffered it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { WebSocket } from "ws";
import { DEFAULTS } from "../../../src/config/defaults.js";
import { CONNECTION_CLOSE, CONNECTION_START, type ConnectionClose } from "../../../src/amqp/codec/generated.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { RawStompClient } from "../stomp/raw-client.js";

const fixture = useBroker({ ports: { amqp: 0, stomp: 0, http: 0, mqtt: 0, webStomp: 0, webMqtt: "off" } });

/** A frame header (type, channel, size) whose payload is never sent. */
function frameHeader(type: number, channel: number, size: number): Buffer {
  const header = Buffer.alloc(7);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(channel, 1);
  header.writeUInt32BE(size, 3);
  return header;
}

/** Opens a WebSocket, sends `messages` in order, and resolves with the close code the server gave. */
function sendFirstMessage(url: string, protocol: string, ...messages: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol);
    ws.on("open", () => {
      for (const message of messages) ws.send(message);
    });
    ws.on("error", () => {});
    ws.on("close", (code) => resolve(code));
    ws.on("unexpected-response", () => reject(new Error("upgrade refused")));
  });
}

async function amqpStillServes(): Promise<void> {
  const connection = await amqplib.connect(fixture.broker.url);
  await connection.close();
}

/** Logs in over STOMP-over-WebSocket, then sends a 200 KB message to a queue and reads it back over AMQP. */
async function largeMessageAfterLogin(url: string): Promise<void> {
  const ws = new WebSocket(url, "v12.stomp");
  const frames: string[] = [];
  ws.on("message", (data: Buffer) => frames.push(data.toString("latin1")));
  await new Promise((resolve) => ws.on("open", resolve));
  ws.send("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0");
  const body = "b".repeat(200_000);
  await waitFor(() => frames.some((f) => f.startsWith("CONNECTED")));
  ws.send(`SEND\ndestination:/queue/after-login\nreceipt:r1\ncontent-length:${body.length}\n\n${body}\0`);
  await waitFor(() => frames.some((f) => f.startsWith("RECEIPT")));
  ws.close();
  const connection = await amqplib.connect(fixture.broker.url);
  const channel = await connection.createChannel();
  const message = await channel.get("after-login", { noAck: true });
  assert.ok(message);
  assert.equal(message.content.length, body.length);
  await connection.close();
}

describe("limits before login", () => {
  it("AMQP: a frame larger than frame-min before tune-ok closes the connection with 501 before its payload arrives", async () => {
    const raw = await RawAmqp.connect(fixture.broker.port);
    raw.sendHeader();
    await raw.expectMethod(CONNECTION_START);
    // 100,000 bytes is below the negotiated frame_max (131072) but above what may come before login.
    raw.write(frameHeader(1, 0, 100_000));
    const close = await raw.expectMethod<ConnectionClose>(CONNECTION_CLOSE);
    assert.equal(close.replyCode, 501);
    assert.equal(
      close.replyText,
      `FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,100000,${DEFAULTS.frameMin - 8}}`,
    );
    await raw.waitClosed();
    await amqpStillServes();
  });

  it("AMQP: a 120 MB frame declared before the handshake is refused on its header, without reading the body", async () => {
    const raw = await RawAmqp.connect(fixture.broker.port);
    raw.sendHeader();
    raw.write(frameHeader(1, 0, 120_000_000));
    raw.write(Buffer.alloc(64 * 1024)); // the start of the body: never buffered
    await raw.expectMethod(CONNECTION_START);
    const close = await raw.expectMethod<ConnectionClose>(CONNECTION_CLOSE);
    assert.equal(
      close.replyText,
      `FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,120000000,${DEFAULTS.frameMin - 8}}`,
    );
    await raw.waitClosed();
    await amqpStillServes();
  });

  it("AMQP: a start-ok within frame-min still logs in (amqplib's handshake is unchanged)", async () => {
    await amqpStillServes();
  });

  it("STOMP: more than 64 KiB before CONNECTED gets ERROR 'Frame too large' and the connection closes", async () => {
    const port = fixture.broker.broker.ports.stomp as number;
    const client = await RawStompClient.connect(port);
    // A CONNECT whose body never ends: one byte over the limit, then nothing more.
    const head = "CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n";
    client.write(Buffer.concat([Buffer.from(head), Buffer.alloc(DEFAULTS.preLoginMaxBytes + 1 - head.length, 0x61)]));
    const error = await client.frame();
    assert.equal(error.command, "ERROR");
    assert.equal(error.headers["message"], "Frame too large");
    assert.equal(error.body.toString(), `at most ${DEFAULTS.preLoginMaxBytes} bytes may be sent before CONNECTED\n`);
    await client.closedByServer();
    const { client: other } = await RawStompClient.login(port);
    other.socket.destroy();
  });

  it("STOMP: a CONNECT just under the limit is served", async () => {
    const port = fixture.broker.broker.ports.stomp as number;
    const { client, connected } = await RawStompClient.login(port, { "x-padding": "p".repeat(60_000) });
    assert.equal(connected.command, "CONNECTED");
    client.socket.destroy();
  });

  it("WebSocket STOMP and MQTT: a first message over 64 KiB is cut with 1009 before ws buffers it; others still log in", async () => {
    const http = fixture.broker.broker.urls.http as string;
    const ws = http.replace("http://", "ws://");
    // A CONNECT with a 100 KB body: valid STOMP, accepted once logged in, but too much before.
    const body = Buffer.alloc(100_000, 0x61);
    const connect = Buffer.concat([
      Buffer.from(`CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\ncontent-length:${body.length}\n\n`),
      body,
      Buffer.from([0]),
    ]);
    assert.equal(await sendFirstMessage(`${ws}/ws/stomp`, "v12.stomp", connect), 1009);
    // STOMP lifts the bound only at CONNECTED: a heart-beat EOL first does not open the door to a large message.
    assert.equal(await sendFirstMessage(`${ws}/ws/stomp`, "v12.stomp", Buffer.from("\n"), connect), 1009);
    assert.equal(await sendFirstMessage(`${ws}/ws/mqtt`, "mqtt", Buffer.alloc(200_000, 0x10)), 1009);
    const warned = fixture.broker.logs.filter(
      (entry) => entry.msg === "closing WebSocket connection: too much data before login",
    );
    assert.deepEqual(
      warned.map((entry) => entry["path"]),
      ["/ws/stomp", "/ws/stomp", "/ws/mqtt"],
    );
    // SockJS's websocket transport (Web-STOMP port, /stomp/<server>/<session>/websocket) likewise.
    const sockjs = `ws://127.0.0.1:${fixture.broker.broker.ports.webStomp as number}/stomp/000/prelogin/websocket`;
    assert.equal(
      await sendFirstMessage(sockjs, "v12.stomp", Buffer.from(JSON.stringify([connect.toString("latin1")]))),
      1009,
    );
    await largeMessageAfterLogin(`${ws}/ws/stomp`);
    const client = await mqtt.connectAsync(`${ws}/ws/mqtt`, {
      username: "guest",
      password: "guest",
      reconnectPeriod: 0,
    });
    await client.endAsync();
  });

  it("SockJS xhr_send: bodies past 64 KiB in all before CONNECTED get 413 and c[1009] without being buffered; after CONNECTED the message limit holds; others still log in", async () => {
    const sockjs = `http://127.0.0.1:${fixture.broker.broker.ports.webStomp as number}/stomp/000`;
    const open = async (name: string): Promise<string> => {
      const session = `${sockjs}/${name}-${Date.now()}`;
      assert.equal(await (await fetch(`${session}/xhr`, { method: "POST" })).text(), "o\n");
      return session;
    };
    const send = (session: string, ...messages: string[]): Promise<Response> =>
      fetch(`${session}/xhr_send`, { method: "POST", body: JSON.stringify(messages) });
    const poll = async (session: string): Promise<string> => (await fetch(`${session}/xhr`, { method: "POST" })).text();
    const connectFrame = "CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0";

    // One body over the bound.
    const one = await open("one-big");
    const big = await send(
      one,
      `CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\nx-padding:${"p".repeat(DEFAULTS.preLoginMaxBytes)}\n\n\0`,
    );
    assert.equal(big.status, 413);
    assert.equal(await big.text(), "Payload too large.");
    assert.equal(await poll(one), 'c[1009,"too much data before login"]\n');

    // Several bodies each under the bound but over it together (heart-beat EOLs do not log in).
    const many = await open("many");
    // 15,000 EOLs are 30 KB of JSON ("\n" escaped): the third body passes 64 KiB.
    const eols = "\n".repeat(15_000);
    assert.equal((await send(many, eols)).status, 204);
    assert.equal((await send(many, eols)).status, 204);
    const third = await send(many, eols);
    assert.equal(third.status, 413);
    assert.equal(await poll(many), 'c[1009,"too much data before login"]\n');

    // Once CONNECTED, a body larger than the pre-login bound is a message like any other.
    const loggedIn = await open("logged-in");
    assert.equal((await send(loggedIn, connectFrame)).status, 204);
    assert.match(await poll(loggedIn), /^a\["CONNECTED\\n/);
    const body = "b".repeat(100_000);
    const large = await send(loggedIn, `SEND\ndestination:/queue/sockjs-after-login\nreceipt:r1\n\n${body}\0`);
    assert.equal(large.status, 204);
    assert.match(await poll(loggedIn), /RECEIPT\\nreceipt-id:r1/);
    await amqpStillServes();
  });
});
