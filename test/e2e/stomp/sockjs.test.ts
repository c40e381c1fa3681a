import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "@stomp/stompjs";
import amqplib from "amqplib";
import SockJS from "sockjs-client";
import { WebSocket } from "ws";
import { StompConnection } from "../../../src/stomp/connection.js";
import { SockJsTransport } from "../../../src/stomp/sockjs-transport.js";
import { TestBroker, waitFor } from "../../helpers/broker.js";

const MAX_MESSAGE = 64 * 1024;
let broker: TestBroker;
let base: string;
before(async () => {
  broker = await TestBroker.start({
    ports: { stomp: "off", webStomp: 0, http: "off", mqtt: "off", webMqtt: "off" },
    stomp: { maxWebSocketMessageBytes: MAX_MESSAGE },
  });
  base = `http://127.0.0.1:${broker.broker.ports.webStomp}/stomp`;
});
after(async () => {
  await broker.stop();
});

/** @stomp/stompjs over sockjs-client restricted to one transport. */
async function stompOverSockJs(transport: string): Promise<Client> {
  const client = new Client({
    webSocketFactory: () => new SockJS(base, null, { transports: [transport] }),
    connectHeaders: { login: "guest", passcode: "guest" },
    reconnectDelay: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(frame.headers.message));
    client.onWebSocketClose = () => reject(new Error(`${transport}: closed before CONNECTED`));
    client.activate();
  });
  return client;
}

/** Resolves once the broker has handled everything the client sent before. */
function synced(client: Client, id: string): Promise<void> {
  return new Promise((resolve) => {
    client.watchForReceipt(id, () => resolve());
    client.publish({ destination: "/queue/sockjs-sync", headers: { receipt: id } });
  });
}

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`sockjs-client ${transport} transport: @stomp/stompjs publishes, subscribes and meets AMQP`, async () => {
    const client = await stompOverSockJs(transport);
    const received: string[] = [];
    client.subscribe(`/topic/sockjs.${transport}`, (message) => received.push(message.body));
    await synced(client, `sub-${transport}`);
    // Enough messages to span several polls / stream writes, with text SockJS must escape.
    for (let i = 0; i < 50; i++)
      client.publish({ destination: `/topic/sockjs.${transport}`, body: `m${i} \u2028 ü "q"` });
    const amqp = await amqplib.connect(broker.url);
    const channel = await amqp.createChannel();
    channel.publish("amq.topic", `sockjs.${transport}`, Buffer.from("from amqp"));
    await waitFor(() => received.length === 51);
    assert.deepEqual(
      received.slice(0, 50),
      Array.from({ length: 50 }, (_, i) => `m${i} \u2028 ü "q"`),
    );
    assert.equal(received[50], "from amqp");
    await amqp.close();
    await client.deactivate();
  });
}

test("GET /stomp greets and /stomp/info describes the endpoint with CORS and no-cache headers", async () => {
  const welcome = await fetch(base);
  assert.equal(welcome.status, 200);
  assert.equal(await welcome.text(), "Welcome to SockJS!\n");
  const info = await fetch(`${base}/info?t=1`, { headers: { origin: "http://app.example" } });
  assert.equal(info.status, 200);
  assert.match(info.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(info.headers.get("access-control-allow-origin"), "http://app.example");
  assert.equal(info.headers.get("access-control-allow-credentials"), "true");
  assert.match(info.headers.get("cache-control") ?? "", /no-store/);
  const body = (await info.json()) as Record<string, unknown>;
  assert.equal(body.websocket, true);
  assert.equal(body.cookie_needed, false);
  assert.deepEqual(body.origins, ["*:*"]);
  assert.equal(typeof body.entropy, "number");
  const preflight = await fetch(`${base}/000/preflight/xhr_send`, {
    method: "OPTIONS",
    headers: { origin: "http://app.example", "access-control-request-headers": "content-type" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-methods"), "OPTIONS, POST");
  assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type");
});

test("xhr polling: open frame, messages as a[...], xhr_send answers 204, and bad input gets sockjs-protocol's errors", async () => {
  const session = `${base}/123/polling-${Date.now()}`;
  assert.equal(await (await fetch(`${session}/xhr`, { method: "POST" })).text(), "o\n");
  const send = (body: string): Promise<Response> => fetch(`${session}/xhr_send`, { method: "POST", body });
  assert.equal(
    (await send(JSON.stringify(["CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0"]))).status,
    204,
  );
  const connected = await (await fetch(`${session}/xhr`, { method: "POST" })).text();
  assert.match(connected, /^a\["CONNECTED\\nserver:Warren/);
  assert.ok(connected.endsWith("\n"));

  const empty = await send("");
  assert.equal(empty.status, 500);
  assert.equal(await empty.text(), "Payload expected.");
  const broken = await send("[not json");
  assert.equal(broken.status, 500);
  assert.equal(await broken.text(), "Broken JSON encoding.");
  const unknown = await fetch(`${base}/123/no-such-session/xhr_send`, { method: "POST", body: '["x"]' });
  assert.equal(unknown.status, 404);

  // DISCONNECT with a receipt: the receipt, then the session is closed and stays closed.
  assert.equal((await send(JSON.stringify(["DISCONNECT\nreceipt:bye\n\n\0"]))).status, 204);
  const receipt = await (await fetch(`${session}/xhr`, { method: "POST" })).text();
  assert.match(receipt, /RECEIPT\\nreceipt-id:bye/);
  const closed = await waitFor(async () => {
    const text = await (await fetch(`${session}/xhr`, { method: "POST" })).text();
    return text.startsWith("c") ? text : null;
  });
  assert.equal(closed, 'c[3000,"Go away!"]\n');
});

test("a second receiving request on a session gets c[2010] while the first is open", async () => {
  const session = `${base}/123/twice-${Date.now()}`;
  const controller = new AbortController();
  const first = await fetch(`${session}/xhr_streaming`, { method: "POST", signal: controller.signal });
  const reader = first.body!.getReader();
  let streamed = "";
  while (!streamed.includes("o\n"))
    streamed += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
  assert.ok(streamed.startsWith("h".repeat(2048) + "\n"), "xhr_streaming starts with the 2 KiB prelude");
  const second = await fetch(`${session}/xhr`, { method: "POST" });
  assert.equal(await second.text(), 'c[2010,"Another connection still open"]\n');
  controller.abort();
  await reader.cancel().catch(() => {});
});

test("an xhr_send body over the message limit gets 413 and closes the session", async () => {
  const session = `${base}/123/big-${Date.now()}`;
  await (await fetch(`${session}/xhr`, { method: "POST" })).text();
  // Logged in first: before CONNECTED the smaller pre-login bound answers (test/e2e/features/pre-login-limits.test.ts).
  const connect = await fetch(`${session}/xhr_send`, {
    method: "POST",
    body: JSON.stringify(["CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0"]),
  });
  assert.equal(connect.status, 204);
  assert.match(await (await fetch(`${session}/xhr`, { method: "POST" })).text(), /^a\["CONNECTED\\n/);
  const big = await fetch(`${session}/xhr_send`, { method: "POST", body: JSON.stringify(["x".repeat(MAX_MESSAGE)]) });
  assert.equal(big.status, 413);
  assert.equal(await (await fetch(`${session}/xhr`, { method: "POST" })).text(), 'c[1009,"Message too big"]\n');
});

/** Opens a WebSocket and collects its messages. */
async function openWebSocket(url: string, protocols: string[] = []): Promise<{ ws: WebSocket; messages: string[] }> {
  const ws = new WebSocket(url, protocols);
  const messages: string[] = [];
  ws.on("message", (data: Buffer) => messages.push(data.toString()));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, messages };
}

test("websocket transport speaks SockJS framing; broken JSON closes only that session", async () => {
  const wsBase = base.replace("http:", "ws:");
  const { ws, messages } = await openWebSocket(`${wsBase}/000/ws-${Date.now()}/websocket`);
  await waitFor(() => messages.length >= 1);
  assert.equal(messages[0], "o");
  ws.send(JSON.stringify(["CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0"]));
  await waitFor(() => messages.length >= 2);
  assert.match(messages[1] ?? "", /^a\["CONNECTED\\n/);
  const closed = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
  ws.send("{broken");
  assert.equal(await closed, 1002);

  // A plain GET on the websocket transport is refused as sockjs-protocol says.
  const plain = await fetch(`${base}/000/plain/websocket`);
  assert.equal(plain.status, 400);
  assert.equal(await plain.text(), 'Can "Upgrade" only to "WebSocket".');
});

test("raw WebSocket at /stomp/websocket is plain STOMP over WebSocket", async () => {
  const { ws, messages } = await openWebSocket(`${base.replace("http:", "ws:")}/websocket`);
  ws.send("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0");
  await waitFor(() => messages.length >= 1);
  assert.match(messages[0] ?? "", /^CONNECTED\n/);
  ws.close();
});

test("allowedOrigins applies to SockJS: info, HTTP transports and the websocket transport refuse other origins with 403", async () => {
  const guarded = await TestBroker.start({
    ports: { stomp: "off", webStomp: 0, http: "off", mqtt: "off", webMqtt: "off" },
    stomp: { allowedOrigins: ["http://app.example"] },
  });
  try {
    const url = `http://127.0.0.1:${guarded.broker.ports.webStomp}/stomp`;
    const evil = { origin: "http://evil.example" };
    assert.equal((await fetch(`${url}/info`, { headers: evil })).status, 403);
    assert.equal((await fetch(`${url}/000/s1/xhr`, { method: "POST", headers: evil })).status, 403);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace("http:", "ws:")}/000/s2/websocket`, { origin: "http://evil.example" });
      ws.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      ws.on("open", () => reject(new Error("upgrade accepted")));
    });
    assert.equal(status, 403);
    assert.equal((await fetch(`${url}/info`, { headers: { origin: "http://app.example" } })).status, 200);
  } finally {
    await guarded.stop();
  }
});

test("a session whose client stops polling is closed after the disconnect delay (5 s), and its STOMP connection is gone", async () => {
  const session = `${base}/123/abandoned-${Date.now()}`;
  await (await fetch(`${session}/xhr`, { method: "POST" })).text();
  await fetch(`${session}/xhr_send`, {
    method: "POST",
    body: JSON.stringify(["CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0"]),
  });
  assert.match(await (await fetch(`${session}/xhr`, { method: "POST" })).text(), /^a\["CONNECTED/);
  // STOMP sessions carried by SockJS's HTTP transports: only this test's remains open by now.
  const stompConnections = (): number =>
    [...broker.broker.core.connections].filter(
      (c) => c instanceof StompConnection && c.transport instanceof SockJsTransport,
    ).length;
  assert.equal(stompConnections(), 1);
  // No more polls: sockjs-protocol's disconnect_delay ends the session.
  await waitFor(() => stompConnections() === 0, 15_000);
  assert.equal((await fetch(`${session}/xhr_send`, { method: "POST", body: '["x"]' })).status, 404);
});
