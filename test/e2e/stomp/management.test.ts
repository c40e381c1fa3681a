import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "../management/api-client.js";
import { RawStompClient } from "./raw-client.js";

const warren = useBroker({ ports: { stomp: 0, webStomp: 0, http: 0, mqtt: "off", webMqtt: "off" } });
const api = Api.lazy(warren);

type Json = Record<string, unknown>;

async function list(path: string): Promise<Json[]> {
  const response = await api.request("GET", path);
  assert.equal(response.status, 200);
  return response.json as Json[];
}

/** The listed connection whose peer port is the client's local port. */
async function connectionOf(localPort: number): Promise<Json> {
  return waitFor(async () => (await list("/api/connections")).find((c) => c.peer_port === localPort));
}

test("a STOMP connection shows in /api/connections, /api/channels and /api/consumers as RabbitMQ's STOMP plugin shows it", async () => {
  const { client } = await RawStompClient.login(warren.broker.broker.ports.stomp as number, {
    "heart-beat": "10000,0",
  });
  client.send("SUBSCRIBE", {
    id: "sub-1",
    destination: "/queue/mgmt-stomp",
    ack: "client",
    "prefetch-count": "5",
    receipt: "r1",
  });
  assert.equal((await client.frame()).command, "RECEIPT");
  const localPort = client.socket.localPort as number;

  const connection = await connectionOf(localPort);
  assert.equal(connection.protocol, "STOMP 1.2");
  assert.equal(connection.name, `127.0.0.1:${localPort} -> 127.0.0.1:${warren.broker.broker.ports.stomp}`);
  assert.equal(connection.port, warren.broker.broker.ports.stomp);
  assert.equal(connection.channels, 1);
  assert.equal(connection.channel_max, 1);
  assert.equal(connection.frame_max, 0);
  assert.deepEqual(connection.client_properties, { product: "STOMP client" });
  assert.equal(connection.user, "guest");
  assert.equal(connection.vhost, "/");
  assert.equal(connection.timeout, 10);
  assert.ok((connection.recv_oct as number) > 0 && (connection.send_oct as number) > 0);

  const channel = (await list("/api/channels")).find((c) => c.name === `${connection.name as string} (1)`);
  assert.ok(channel, "the session's channel is listed");
  assert.equal(channel.number, 1);
  assert.equal(channel.prefetch_count, 5);
  assert.equal(channel.messages_unacknowledged, 0);

  const consumer = (await list("/api/consumers")).find((c) => c.consumer_tag === "T_sub-1");
  assert.ok(consumer, "the subscription is listed as a consumer");
  assert.deepEqual(consumer.queue, { name: "mgmt-stomp", vhost: "/" });
  assert.equal(consumer.ack_required, true);
  assert.equal(consumer.prefetch_count, 5);
  client.close();
});

test("a Web-STOMP connection is listed as 'Web STOMP 1.2' and unacked deliveries count on its channel", async () => {
  const ws = new WebSocket(warren.broker.broker.urls.webStomp as string, ["v12.stomp"]);
  const messages: string[] = [];
  ws.on("message", (data: Buffer) => messages.push(data.toString()));
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\n\n\0");
  ws.send("SUBSCRIBE\nid:w\ndestination:/queue/mgmt-ws\nack:client-individual\n\n\0");
  ws.send("SEND\ndestination:/queue/mgmt-ws\n\nunacked\0");
  await waitFor(() => messages.some((m) => m.includes("MESSAGE\n")));
  const localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  const connection = await connectionOf(localPort);
  assert.equal(connection.protocol, "Web STOMP 1.2");
  assert.equal(connection.port, warren.broker.broker.ports.webStomp);
  const channel = (await list("/api/channels")).find((c) => c.name === `${connection.name as string} (1)`);
  assert.equal(channel?.messages_unacknowledged, 1);
  ws.close();
});

test("DELETE /api/connections/<name> closes a STOMP connection with an ERROR frame giving the reason", async () => {
  const { client } = await RawStompClient.login(warren.broker.broker.ports.stomp as number);
  const connection = await connectionOf(client.socket.localPort as number);
  const response = await api.request(
    "DELETE",
    `/api/connections/${encodeURIComponent(connection.name as string)}`,
    undefined,
    {
      "x-reason": "maintenance",
    },
  );
  assert.equal(response.status, 204);
  const error = await client.frame();
  assert.equal(error.command, "ERROR");
  assert.equal(error.headers.message, "Connection closed");
  assert.equal(error.body.toString(), "maintenance\n");
  await client.closedByServer();
});
