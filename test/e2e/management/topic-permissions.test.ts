import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";
import { TestBroker } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { Api, type Item } from "./api-client.js";

// Statuses and bodies as RabbitMQ 3.10's management API answered the same requests (15673).
const warren = useBroker();
const api = Api.lazy(warren);
const dirs = useDataDirs("warren-topic-perms");

test("PUT /api/topic-permissions/{vhost}/{user}: 201 for the pair's first exchange, 204 after; GET lists per exchange", async () => {
  await api.put("/api/users/tp-api", { password: "pw", tags: "" });
  assert.equal((await api.get("/api/topic-permissions/%2F/tp-api")).status, 404);
  assert.equal(
    (await api.put("/api/topic-permissions/%2F/tp-api", { exchange: "amq.topic", write: "^a", read: "^r\\." })).status,
    201,
  );
  assert.equal(
    (await api.put("/api/topic-permissions/%2F/tp-api", { exchange: "amq.topic", write: "^b", read: "^r\\." })).status,
    204,
  );
  assert.equal(
    (await api.put("/api/topic-permissions/%2F/tp-api", { exchange: "other", write: "x", read: "y" })).status,
    204,
  );
  const expected = [
    { user: "tp-api", vhost: "/", exchange: "amq.topic", write: "^b", read: "^r\\." },
    { user: "tp-api", vhost: "/", exchange: "other", write: "x", read: "y" },
  ];
  assert.deepEqual(await api.json("/api/topic-permissions/%2F/tp-api"), expected);
  assert.deepEqual(await api.json("/api/users/tp-api/topic-permissions"), expected);
  assert.deepEqual(
    (await api.json<Item[]>("/api/vhosts/%2F/topic-permissions")).filter((p) => p["user"] === "tp-api"),
    expected,
  );
  assert.deepEqual(
    (await api.json<Item[]>("/api/topic-permissions")).filter((p) => p["user"] === "tp-api"),
    expected,
  );
  // DELETE clears every exchange's entry of the pair, as RabbitMQ 3.10 does.
  assert.equal((await api.delete("/api/topic-permissions/%2F/tp-api")).status, 204);
  const gone = await api.get("/api/topic-permissions/%2F/tp-api");
  assert.deepEqual([gone.status, gone.json], [404, { error: "Object Not Found", reason: "Not Found" }]);
  assert.equal((await api.delete("/api/topic-permissions/%2F/tp-api")).status, 404);
});

test("bad topic permission requests answer RabbitMQ's 400s and change nothing", async () => {
  await api.put("/api/users/tp-bad", { password: "pw", tags: "" });
  const cases: Array<[string, unknown, unknown]> = [
    [
      "/api/topic-permissions/%2F/nobody",
      { exchange: "amq.topic", write: ".*", read: ".*" },
      "vhost_or_user_not_found",
    ],
    [
      "/api/topic-permissions/no-vhost/tp-bad",
      { exchange: "amq.topic", write: ".*", read: ".*" },
      "vhost_or_user_not_found",
    ],
    ["/api/topic-permissions/%2F/tp-bad", { write: ".*", read: ".*" }, "[{key_missing,exchange}]"],
    ["/api/topic-permissions/%2F/tp-bad", { exchange: "amq.topic" }, "[{key_missing,write},\n {key_missing,read}]"],
  ];
  for (const [path, body, reason] of cases) {
    const response = await api.put(path, body);
    assert.deepEqual([response.status, response.json], [400, { error: "bad_request", reason }], path);
  }
  const badRegex = await api.put("/api/topic-permissions/%2F/tp-bad", {
    exchange: "amq.topic",
    write: "(",
    read: ".*",
  });
  assert.equal(badRegex.status, 400);
  assert.match(String((badRegex.json as Item)["reason"]), /invalid regular expression '\(' for write topic permission/);
  assert.equal((await api.get("/api/topic-permissions/%2F/tp-bad")).status, 404);
  // Only administrators see or set them.
  await api.put("/api/users/tp-mgmt", { password: "pw", tags: "management" });
  assert.equal((await api.as("tp-mgmt", "pw").get("/api/topic-permissions")).status, 401);
});

test("topic permissions are exported and imported with the definitions, and deleting the user removes them", async () => {
  await api.put("/api/users/tp-defs", { password: "pw", tags: "" });
  await api.put("/api/topic-permissions/%2F/tp-defs", { exchange: "amq.topic", write: "^w", read: "^r" });
  const exported = await api.json<Item>("/api/definitions");
  const entry = { user: "tp-defs", vhost: "/", exchange: "amq.topic", write: "^w", read: "^r" };
  assert.ok((exported["topic_permissions"] as Item[]).some((p) => JSON.stringify(p) === JSON.stringify(entry)));
  await api.delete("/api/users/tp-defs");
  assert.equal((await api.get("/api/topic-permissions/%2F/tp-defs")).status, 404);
  assert.equal(
    (await api.post("/api/definitions", { users: exported["users"], topic_permissions: exported["topic_permissions"] }))
      .status,
    204,
  );
  assert.deepEqual(await api.json("/api/topic-permissions/%2F/tp-defs"), [entry]);
});

test("topic permissions survive a restart and are still enforced", async () => {
  const dir = await dirs.fresh("restart");
  const first = await TestBroker.start({ storage: { dir } });
  const firstApi = Api.of(first);
  await firstApi.put("/api/users/tp-durable", { password: "pw", tags: "" });
  await firstApi.put("/api/permissions/%2F/tp-durable", { configure: ".*", write: ".*", read: ".*" });
  await firstApi.put("/api/topic-permissions/%2F/tp-durable", { exchange: "amq.topic", write: "^ok", read: "^ok" });
  await first.stop();
  const second = await TestBroker.start({ storage: { dir } });
  try {
    assert.deepEqual(await Api.of(second).json("/api/topic-permissions/%2F/tp-durable"), [
      { user: "tp-durable", vhost: "/", exchange: "amq.topic", write: "^ok", read: "^ok" },
    ]);
    const connection = await amqplib.connect(second.urlFor("tp-durable", "pw"));
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await rejectsWithClose(
      channel.bindQueue(queue, "amq.topic", "no.x"),
      403,
      "ACCESS_REFUSED - access to topic 'no.x' in exchange 'amq.topic' in vhost '/' refused for user 'tp-durable'",
    );
    await connection.close();
  } finally {
    await second.stop();
  }
});
