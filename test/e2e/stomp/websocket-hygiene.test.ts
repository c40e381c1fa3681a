import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const PROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];
const MAX_MESSAGE = 4096;

const warren = useBroker({
  ports: { stomp: "off", webStomp: 0, http: 0, mqtt: "off", webMqtt: "off" },
  stomp: { allowedOrigins: ["http://chat.example:8080", "null"], maxWebSocketMessageBytes: MAX_MESSAGE },
});

const endpoints = (): string[] => [
  warren.broker.broker.urls.webStomp as string,
  `ws://127.0.0.1:${warren.broker.broker.ports.http}/ws/stomp`,
];

/** Resolves with the HTTP status of a refused upgrade, or "open". */
function upgrade(url: string, origin: string | undefined): Promise<number | "open"> {
  const ws = new WebSocket(url, PROTOCOLS, origin === undefined ? {} : { origin });
  return new Promise((resolve, reject) => {
    ws.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve("open");
      ws.close();
    });
    ws.on("error", reject);
  });
}

/** Opens a STOMP session over WebSocket and resolves with the socket and the first frame received. */
async function stompSession(url: string, origin?: string): Promise<{ ws: WebSocket; connected: string }> {
  const ws = new WebSocket(url, PROTOCOLS, origin === undefined ? {} : { origin });
  const first = new Promise<string>((resolve, reject) => {
    ws.once("message", (data: Buffer) => resolve(data.toString()));
    ws.once("error", reject);
  });
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\nhost:/\n\n\0");
  return { ws, connected: await first };
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve(1006);
    else ws.once("close", (code: number) => resolve(code));
  });
}

test("an origin not in allowedOrigins is refused with 403 at the upgrade, on /ws and /ws/stomp", async () => {
  for (const url of endpoints()) {
    assert.equal(await upgrade(url, "http://evil.example"), 403, url);
    // Same host, other port: a different origin.
    assert.equal(await upgrade(url, "http://chat.example:9090"), 403, url);
  }
});

test("an allowed origin, the 'null' origin when listed, and a client without Origin are served", async () => {
  for (const url of endpoints()) {
    for (const origin of ["http://chat.example:8080", "HTTP://CHAT.EXAMPLE:8080", "null", undefined]) {
      const { ws, connected } = await stompSession(url, origin);
      assert.match(connected, /^CONNECTED\n/, `${url} origin ${origin}`);
      ws.close();
      await closed(ws);
    }
  }
});

test("a WebSocket message larger than maxWebSocketMessageBytes closes that connection with 1009; others carry on", async () => {
  const url = warren.broker.broker.urls.webStomp as string;
  const bystander = await stompSession(url);
  const { ws } = await stompSession(url);
  const body = "x".repeat(MAX_MESSAGE);
  ws.send(`SEND\ndestination:/queue/hygiene\n\n${body}\0`);
  assert.equal(await closed(ws), 1009);
  await waitFor(() =>
    warren.broker.logs.find((entry) => entry.msg === "closing STOMP connection: WebSocket protocol error"),
  );

  // A message under the limit still goes through on the other connection.
  const received = new Promise<string>((resolve) =>
    bystander.ws.on("message", (data: Buffer) => resolve(data.toString())),
  );
  bystander.ws.send("SUBSCRIBE\nid:0\ndestination:/queue/hygiene\n\n\0");
  bystander.ws.send(`SEND\ndestination:/queue/hygiene\n\n${"y".repeat(MAX_MESSAGE - 100)}\0`);
  const message = await received;
  assert.match(message, /^MESSAGE\n/);
  assert.ok(message.includes("y".repeat(MAX_MESSAGE - 100)));
  bystander.ws.close();
  await closed(bystander.ws);
});

test("a WebSocket that sends no CONNECT within the handshake timeout is closed", async () => {
  const idle = await TestBroker.start({
    ports: { stomp: "off", webStomp: 0, http: 0, mqtt: "off", webMqtt: "off" },
    stomp: { handshakeTimeoutMs: 200 },
  });
  try {
    for (const url of [idle.broker.urls.webStomp as string, `ws://127.0.0.1:${idle.broker.ports.http}/ws/stomp`]) {
      const ws = new WebSocket(url, PROTOCOLS);
      await new Promise((resolve) => ws.once("open", resolve));
      await closed(ws);
      assert.ok(idle.logs.some((entry) => entry.msg === "closing STOMP connection: no CONNECT in time"));
    }
    // A client that does log in in time is served by the same broker.
    const { ws, connected } = await stompSession(idle.broker.urls.webStomp as string);
    assert.match(connected, /^CONNECTED\n/);
    ws.close();
    await closed(ws);
  } finally {
    await idle.stop();
  }
});
