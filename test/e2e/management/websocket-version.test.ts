/**
 * Issue 11: a WebSocket handshake with a Sec-WebSocket-Version other than 13
 * is refused with 426 and the version Warren speaks (RFC 6455 §4.4), on
 * every WebSocket endpoint; a version 13 client still connects.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import WebSocket from "ws";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker({ ports: { http: 0, webStomp: 0, webMqtt: 0 } });

function endpoints(): Array<{ port: number; path: string; protocol: string }> {
  const ports = warren.broker.broker.ports;
  return [
    { port: ports.http as number, path: "/ws/stomp", protocol: "v12.stomp" },
    { port: ports.http as number, path: "/ws/mqtt", protocol: "mqtt" },
    { port: ports.webStomp as number, path: "/ws", protocol: "v12.stomp" },
    { port: ports.webMqtt as number, path: "/ws", protocol: "mqtt" },
  ];
}

/** A raw upgrade request; resolves with the server's answer once it closes the socket. */
function upgrade(port: number, path: string, version: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${version === null ? "" : `Sec-WebSocket-Version: ${version}\r\n`}\r\n`,
      );
    });
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

test("an upgrade with Sec-WebSocket-Version 8, 12 or none is 426 with Sec-WebSocket-Version: 13, on every endpoint", async () => {
  for (const { port, path } of endpoints()) {
    for (const version of ["8", "12", null]) {
      const answer = await upgrade(port, path, version);
      assert.match(answer, /^HTTP\/1\.1 426 Upgrade Required\r\n/, `${port}${path} version ${String(version)}`);
      assert.match(answer, /\r\nSec-WebSocket-Version: 13\r\n/);
    }
  }
});

test("a version 13 client still opens each endpoint afterwards", async () => {
  for (const { port, path, protocol } of endpoints()) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocol);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    assert.equal(socket.protocol, protocol);
    socket.close();
  }
});
