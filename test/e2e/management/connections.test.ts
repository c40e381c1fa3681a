import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker({ users: [{ name: "other", password: "pw", tags: ["management"] }] });
const api = Api.lazy(warren);

test("connections, channels and consumers are listed with RabbitMQ's fields", async () => {
  const connection = await amqplib.connect(warren.broker.url, { clientProperties: { connection_name: "lister" } });
  const channel = await connection.createChannel();
  await channel.prefetch(4);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.consume(queue, () => {}, { consumerTag: "listed" });
  const confirm = await connection.createConfirmChannel();

  const connections = await waitFor(async () => {
    const list = await api.json<Item[]>("/api/connections");
    return list.length === 1 ? list : null;
  });
  const item = connections[0] as Item;
  assert.equal(item["protocol"], "AMQP 0-9-1");
  assert.equal(item["user"], "guest");
  assert.equal(item["vhost"], "/");
  assert.equal(item["channels"], 2);
  assert.equal(item["peer_host"], "127.0.0.1");
  assert.equal(item["port"], warren.broker.port);
  assert.equal(item["auth_mechanism"], "PLAIN");
  assert.equal(item["frame_max"], 131072);
  assert.equal((item["client_properties"] as Item)["connection_name"], "lister");
  assert.equal(item["name"], `127.0.0.1:${item["peer_port"] as number} -> 127.0.0.1:${warren.broker.port}`);
  assert.equal(
    (await api.json<Item>(`/api/connections/${encodeURIComponent(String(item["name"]))}`))["name"],
    item["name"],
  );

  const channels = await api.json<Item[]>("/api/channels");
  assert.deepEqual(
    channels.map((c) => [c["number"], c["consumer_count"], c["prefetch_count"], c["confirm"]]),
    [
      [1, 1, 4, false],
      [2, 0, 0, true],
    ],
  );
  assert.equal(channels[0]?.["name"], `${item["name"]} (1)`);
  assert.equal(
    (await api.json<Item[]>(`/api/connections/${encodeURIComponent(String(item["name"]))}/channels`)).length,
    2,
  );
  assert.equal((await api.json<Item>(`/api/channels/${encodeURIComponent(`${item["name"]} (1)`)}`))["number"], 1);

  const consumers = await api.json<Item[]>("/api/consumers");
  assert.deepEqual(
    consumers.map((c) => [c["consumer_tag"], c["queue"], c["prefetch_count"], c["ack_required"]]),
    [["listed", { name: queue, vhost: "/" }, 4, true]],
  );
  assert.equal(((consumers[0] as Item)["channel_details"] as Item)["number"], 1);
  assert.equal((await api.json<Item[]>("/api/consumers/%2F")).length, 1);

  const overview = await api.json<Item>("/api/overview");
  assert.deepEqual(overview["object_totals"], { channels: 2, connections: 1, consumers: 1, exchanges: 7, queues: 1 });
  await confirm.close();
  await connection.close();
  await waitFor(async () => (await api.json<Item[]>("/api/connections")).length === 0);
});

test("DELETE /api/connections/{name} closes the connection with 320 and the X-Reason text", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = new Promise<Error>((resolve) => connection.on("close", resolve));
  const [item] = await waitFor(async () => {
    const list = await api.json<Item[]>("/api/connections");
    return list.length === 1 ? list : null;
  });
  const name = encodeURIComponent(String(item?.["name"]));
  assert.equal((await api.delete(`/api/connections/${name}`, { "x-reason": "maintenance window" })).status, 204);
  assert.match(
    (await closed).message,
    /320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - maintenance window"/,
  );
  await waitFor(async () => (await api.get(`/api/connections/${name}`)).status === 404);
});

test("without X-Reason the close says 'Closed via management plugin'", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = new Promise<Error>((resolve) => connection.on("close", resolve));
  const [item] = await waitFor(async () => {
    const list = await api.json<Item[]>("/api/connections");
    return list.length === 1 ? list : null;
  });
  assert.equal((await api.delete(`/api/connections/${encodeURIComponent(String(item?.["name"]))}`)).status, 204);
  assert.match((await closed).message, /CONNECTION_FORCED - Closed via management plugin/);
});

test("a management user sees only its own connections and may not close others'", async () => {
  const guestConnection = await amqplib.connect(warren.broker.url);
  const otherConnection = await amqplib.connect(warren.broker.urlFor("other", "pw"));
  const other = api.as("other", "pw");
  const seen = await waitFor(async () => {
    const list = await other.json<Item[]>("/api/connections");
    return list.length === 1 ? list : null;
  });
  assert.equal(seen[0]?.["user"], "other");
  const all = await api.json<Item[]>("/api/connections");
  const guestName = String(all.find((c) => c["user"] === "guest")?.["name"]);
  assert.equal((await other.delete(`/api/connections/${encodeURIComponent(guestName)}`)).status, 404);
  await guestConnection.close();
  await otherConnection.close();
});

test("an unknown connection is 404", async () => {
  const response = await api.get("/api/connections/nope");
  assert.deepEqual([response.status, response.json], [404, { error: "Object Not Found", reason: "Not Found" }]);
  assert.equal((await api.delete("/api/connections/nope")).status, 404);
});
