import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { connect, Offset } from "rabbitmq-stream-js-client";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { RawStreamClient } from "../../helpers/raw-stream.js";
import { streamClient } from "../../helpers/stream-client.js";
import { Api, type Item } from "../management/api-client.js";

// How /api/queues shows a stream, as RabbitMQ 3.10's management API does
// (observed on :15673 for a stream declared with x-max-age 1h and for one
// holding 5 messages): type "stream", members / online / readers by node,
// messages all ready, and none of a classic queue's byte and utilisation fields.

const warren = useBroker({ ports: { stream: 0 } });
const api = Api.lazy(warren);

test("/api/queues lists a stream with type stream, its members, online nodes and readers; the classic queue beside it is unchanged", async () => {
  assert.equal(
    (
      await api.put("/api/queues/%2F/sm.stream", {
        durable: true,
        arguments: { "x-queue-type": "stream", "x-max-age": "1h" },
      })
    ).status,
    201,
  );
  assert.equal((await api.put("/api/queues/%2F/sm.classic", { durable: true })).status, 201);
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < 5; i++) channel.sendToQueue("sm.stream", Buffer.from(`m${i}`));
  await channel.waitForConfirms();
  const stream = await streamClient(warren.broker.broker.ports.stream as number);
  let got = 0;
  await stream.declareConsumer({ stream: "sm.stream", offset: Offset.first() }, () => void got++);
  await waitFor(() => got >= 5);

  const listed = (await api.get("/api/queues/%2F")).json as Item[];
  const shown = listed.find((q) => q["name"] === "sm.stream") as Item;
  const node = shown["node"] as string;
  assert.equal(typeof node, "string");
  assert.deepEqual(
    {
      type: shown["type"],
      arguments: shown["arguments"],
      durable: shown["durable"],
      members: shown["members"],
      online: shown["online"],
      readers: shown["readers"],
      messages: shown["messages"],
      messages_ready: shown["messages_ready"],
      messages_unacknowledged: shown["messages_unacknowledged"],
      consumers: shown["consumers"],
      state: shown["state"],
    },
    {
      type: "stream",
      arguments: { "x-queue-type": "stream", "x-max-age": "1h" },
      durable: true,
      members: [node],
      online: [node],
      readers: { [node]: 1 },
      messages: 5,
      messages_ready: 5,
      messages_unacknowledged: 0,
      consumers: 1,
      state: "running",
    },
  );
  for (const absent of ["message_bytes", "consumer_utilisation", "head_message_timestamp", "exclusive_consumer_tag"])
    assert.equal(absent in shown, false, absent);
  const single = (await api.get("/api/queues/%2F/sm.stream")).json as Item;
  assert.equal(single["type"], "stream");
  assert.deepEqual(single["readers"], { [node]: 1 });
  const classic = listed.find((q) => q["name"] === "sm.classic") as Item;
  assert.equal(classic["type"], "classic");
  assert.equal("members" in classic, false);
  assert.equal(typeof classic["message_bytes"], "number");

  await stream.close();
  await connection.close();
  assert.equal((await api.delete("/api/queues/%2F/sm.stream")).status, 204);
  assert.equal((await api.delete("/api/queues/%2F/sm.classic")).status, 204);
  assert.equal((await api.get("/api/queues/%2F/sm.stream")).status, 404);
});

// RabbitMQ 3.10 lists a stream connection (observed on :15673 for a client of
// 5553) as protocol "stream", auth PLAIN, 0 channels, named "peer -> local";
// DELETE /api/connections/<name> answers 204 and ends its socket with no
// Close frame sent first.
test("a stream connection is listed in /api/connections as RabbitMQ 3.10 lists it, and DELETE ends it without a Close frame; the next client is served", async () => {
  const port = warren.broker.broker.ports.stream as number;
  const named = await connect({
    hostname: "127.0.0.1",
    port,
    username: "guest",
    password: "guest",
    vhost: "/",
    heartbeat: 0,
    connectionName: "sm-listed",
  });
  const raw = await RawStreamClient.open(port);
  const streams = async (): Promise<Item[]> =>
    ((await api.get("/api/connections")).json as Item[]).filter((c) => c["protocol"] === "stream");
  const listed = await streams();
  assert.equal(listed.length, 2);
  const shown = listed.find((c) => (c["client_properties"] as Item)["connection_name"] === "sm-listed") as Item;
  assert.ok(shown, JSON.stringify(listed));
  assert.deepEqual(
    {
      user: shown["user"],
      vhost: shown["vhost"],
      channels: shown["channels"],
      channel_max: shown["channel_max"],
      auth_mechanism: shown["auth_mechanism"],
      port: shown["port"],
      peer_host: shown["peer_host"],
      state: shown["state"],
      product: (shown["client_properties"] as Item)["product"],
    },
    {
      user: "guest",
      vhost: "/",
      channels: 0,
      channel_max: 0,
      auth_mechanism: "PLAIN",
      port,
      peer_host: "127.0.0.1",
      state: "running",
      product: "RabbitMQ Stream",
    },
  );
  assert.equal(shown["name"], `127.0.0.1:${shown["peer_port"] as number} -> 127.0.0.1:${port}`);
  assert.equal((await api.get(`/api/connections/${encodeURIComponent(shown["name"])}`)).status, 200);

  const rawShown = listed.find((c) => c !== shown) as Item;
  const framesBefore = raw.frames.length;
  const closed = await api.delete(`/api/connections/${encodeURIComponent(rawShown["name"] as string)}`, {
    "x-reason": "sm test",
  });
  assert.equal(closed.status, 204);
  await waitFor(() => raw.closed);
  assert.equal(raw.frames.length, framesBefore, "no frame after the DELETE");
  await waitFor(async () => (await streams()).length === 1);
  assert.equal((await api.delete(`/api/connections/${encodeURIComponent(rawShown["name"] as string)}`)).status, 404);

  // The named connection and a new one still work.
  await named.createStream({ stream: "sm.after-close", arguments: {} });
  const next = await streamClient(port);
  const publisher = await next.declarePublisher({ stream: "sm.after-close" });
  await publisher.send(Buffer.from("still served"));
  let got = "";
  await named.declareConsumer({ stream: "sm.after-close", offset: Offset.first() }, (m) => {
    got = m.content.toString();
  });
  await waitFor(() => got === "still served");
  await named.deleteStream({ stream: "sm.after-close" });
  await next.close();
  await named.close();
  await waitFor(async () => (await streams()).length === 0);
});
