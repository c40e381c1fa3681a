import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "../management/api-client.js";

const warren = useBroker({ ports: { mqtt: 0, webMqtt: 0, http: 0, stomp: "off", webStomp: "off" } });
const api = Api.lazy(warren);

type Json = Record<string, unknown>;

const list = (path: string): Promise<Json[]> => api.json<Json[]>(path);

/** The client's local port: the management API names a connection after its peer. */
function localPortOf(client: MqttClient): number {
  const stream = client.stream as unknown as { localPort?: number; socket?: { _socket?: { localPort: number } } };
  const port = stream.localPort ?? stream.socket?._socket?.localPort;
  assert.ok(port, "the client's local port is known");
  return port;
}

async function connectionOf(localPort: number): Promise<Json> {
  return waitFor(async () => (await list("/api/connections")).find((c) => c.peer_port === localPort));
}

for (const [protocolVersion, name] of [
  [3, "MQTT 3.1.0"],
  [4, "MQTT 3.1.1"],
  [5, "MQTT 5-0"],
] as const) {
  test(`an MQTT v${protocolVersion} connection shows in /api/connections as '${name}' with RabbitMQ's MQTT fields`, async () => {
    const clientId = `mgmt-v${protocolVersion}`;
    const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, {
      protocolVersion,
      clientId,
      keepalive: 30,
      reconnectPeriod: 0,
    });
    try {
      const localPort = localPortOf(client);
      const connection = await connectionOf(localPort);
      assert.equal(connection.protocol, name);
      assert.equal(connection.name, `127.0.0.1:${localPort} -> 127.0.0.1:${warren.broker.broker.ports.mqtt}`);
      assert.equal(connection.host, "127.0.0.1");
      assert.equal(connection.port, warren.broker.broker.ports.mqtt);
      assert.deepEqual(connection.client_properties, { client_id: clientId, product: "MQTT client" });
      assert.equal(connection.channels, 1);
      assert.equal(connection.channel_max, 1);
      assert.equal(connection.frame_max, 0);
      assert.equal(connection.timeout, 30);
      assert.equal(connection.user, "guest");
      assert.equal(connection.vhost, "/");
      assert.ok((connection.recv_oct as number) > 0 && (connection.send_oct as number) > 0);
    } finally {
      await client.endAsync();
    }
  });
}

test("each MQTT subscription queue is a consumer on the session's channel 1; QoS 1 deliveries awaiting PUBACK are unacknowledged", async () => {
  let received = 0;
  // An MQTT 5 client that never answers a QoS 1 PUBLISH: its delivery stays in flight (mqtt.js sends PUBACK only when told).
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, {
    clientId: "mgmt-subs",
    protocolVersion: 5,
    reconnectPeriod: 0,
    customHandleAcks: () => void received++,
  });
  const publisher = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, { reconnectPeriod: 0 });
  try {
    await client.subscribeAsync({ "mgmt/one": { qos: 1 }, "mgmt/zero/+": { qos: 0 } });
    await publisher.publishAsync("mgmt/one", "held", { qos: 1 });
    await waitFor(() => received === 1);
    const connection = await connectionOf(localPortOf(client));
    const channelName = `${connection.name as string} (1)`;

    const channel = await waitFor(async () =>
      (await list("/api/channels")).find((c) => c.name === channelName && c.messages_unacknowledged === 1),
    );
    assert.equal(channel.number, 1);
    assert.equal(channel.consumer_count, 2);
    assert.equal((channel.message_stats as Json).deliver, 1, "the QoS 1 delivery counts on the subscriber's channel");
    assert.equal((channel.message_stats as Json).ack, 0);
    const publisherConnection = await connectionOf(localPortOf(publisher));
    const publisherChannel = (await list("/api/channels")).find(
      (c) => c.name === `${publisherConnection.name as string} (1)`,
    );
    assert.equal((publisherChannel?.message_stats as Json).publish, 1, "the PUBLISH counts on the publisher's channel");
    assert.equal((publisherChannel?.message_stats as Json).confirm, 1, "its PUBACK is the confirm");

    const consumers = (await list("/api/consumers")).filter((c) => (c.channel_details as Json).name === channelName);
    const byQueue = new Map(consumers.map((c) => [(c.queue as Json).name as string, c]));
    assert.deepEqual([...byQueue.keys()].sort(), [
      "mqtt-subscription-mgmt-subsqos0",
      "mqtt-subscription-mgmt-subsqos1",
    ]);
    assert.equal(byQueue.get("mqtt-subscription-mgmt-subsqos1")?.ack_required, true);
    assert.equal(byQueue.get("mqtt-subscription-mgmt-subsqos0")?.ack_required, false);
    assert.equal((byQueue.get("mqtt-subscription-mgmt-subsqos1")?.channel_details as Json).number, 1);
  } finally {
    await client.endAsync(true);
    await publisher.endAsync();
  }
});

test("a Web-MQTT connection is listed as 'Web MQTT 3.1.1' on the Web-MQTT port", async () => {
  const client = await mqtt.connectAsync(warren.broker.broker.urls.webMqtt as string, {
    clientId: "mgmt-ws",
    reconnectPeriod: 0,
  });
  try {
    const connection = await waitFor(async () =>
      (await list("/api/connections")).find((c) => (c.client_properties as Json).client_id === "mgmt-ws"),
    );
    assert.equal(connection.protocol, "Web MQTT 3.1.1");
    assert.equal(connection.port, warren.broker.broker.ports.webMqtt);
    assert.match(connection.name as string, new RegExp(` -> 127\\.0\\.0\\.1:${warren.broker.broker.ports.webMqtt}$`));
  } finally {
    await client.endAsync();
  }
});

test("DELETE /api/connections/<name> closes an MQTT connection; other clients carry on", async () => {
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, {
    clientId: "mgmt-close",
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  const disconnect = new Promise<number | undefined>((resolve) =>
    client.once("disconnect", (packet) => resolve(packet.reasonCode)),
  );
  const connection = await connectionOf(localPortOf(client));
  const response = await api.delete(`/api/connections/${encodeURIComponent(connection.name as string)}`);
  assert.equal(response.status, 204);
  assert.equal(await disconnect, 0x98, "MQTT 5 DISCONNECT with Administrative action");
  await waitFor(async () => !(await list("/api/connections")).some((c) => c.name === connection.name));
  await client.endAsync(true);
});
