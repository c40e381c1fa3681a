import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { TestBroker } from "../../helpers/broker.js";
import { Api, type Item } from "./api-client.js";

let source: TestBroker;
let api: Api;
before(async () => {
  source = await TestBroker.start();
  api = Api.of(source);
  await api.put("/api/vhosts/defs");
  await api.put("/api/users/defs-user", { password: "defs-pass", tags: "management" });
  await api.put("/api/permissions/defs/defs-user", { configure: "^defs-", write: ".*", read: ".*" });
  await api.put("/api/queues/defs/defs-q", { durable: true, arguments: { "x-max-length": 5, "x-queue-mode": "lazy" } });
  await api.put("/api/exchanges/defs/defs-x", {
    type: "headers",
    durable: true,
    arguments: { "alternate-exchange": "defs-ae" },
  });
  await api.put("/api/exchanges/defs/defs-x2", { type: "fanout", durable: false, auto_delete: true, internal: true });
  await api.post("/api/bindings/defs/e/defs-x/q/defs-q", {
    routing_key: "",
    arguments: { "x-match": "any", kind: "a" },
  });
  await api.post("/api/bindings/defs/e/defs-x/e/defs-x2", { routing_key: "rk" });
  await api.put("/api/policies/defs/defs-pol", {
    pattern: "^defs-",
    definition: { "message-ttl": 1000 },
    "apply-to": "queues",
    priority: 3,
  });
});
after(async () => {
  await source.stop();
});

/** An export without what differs between two brokers by construction (guest's salted hash). */
function comparable(definitions: Item): Item {
  const users = (definitions["users"] as Item[]).filter((u) => u["name"] !== "guest");
  return { ...definitions, users };
}

test("GET /api/definitions exports RabbitMQ's format", async () => {
  const definitions = await api.json<Item>("/api/definitions");
  assert.deepEqual(Object.keys(definitions), [
    "rabbit_version",
    "rabbitmq_version",
    "product_name",
    "product_version",
    "users",
    "vhosts",
    "permissions",
    "topic_permissions",
    "parameters",
    "global_parameters",
    "policies",
    "queues",
    "exchanges",
    "bindings",
  ]);
  assert.deepEqual(definitions["queues"], [
    {
      name: "defs-q",
      vhost: "defs",
      durable: true,
      auto_delete: false,
      arguments: { "x-max-length": 5, "x-queue-mode": "lazy" },
    },
  ]);
  assert.deepEqual(definitions["policies"], [
    {
      vhost: "defs",
      name: "defs-pol",
      pattern: "^defs-",
      "apply-to": "queues",
      definition: { "message-ttl": 1000 },
      priority: 3,
    },
  ]);
  assert.deepEqual(
    (definitions["exchanges"] as Item[]).map((e) => e["name"]),
    ["defs-x", "defs-x2"],
  );
  assert.deepEqual(definitions["bindings"], [
    {
      source: "defs-x",
      vhost: "defs",
      destination: "defs-q",
      destination_type: "queue",
      routing_key: "",
      arguments: { "x-match": "any", kind: "a" },
    },
    {
      source: "defs-x",
      vhost: "defs",
      destination: "defs-x2",
      destination_type: "exchange",
      routing_key: "rk",
      arguments: {},
    },
  ]);
  const user = (definitions["users"] as Item[]).find((u) => u["name"] === "defs-user");
  assert.equal(user?.["hashing_algorithm"], "rabbit_password_hashing_sha256");
});

test("an export imported into a fresh broker recreates the same objects, and its users log in", async () => {
  const exported = await api.json<Item>("/api/definitions");
  const target = await TestBroker.start();
  try {
    const targetApi = Api.of(target);
    assert.equal((await targetApi.post("/api/definitions", exported)).status, 204);
    assert.deepEqual(comparable(await targetApi.json<Item>("/api/definitions")), comparable(exported));
    const connection = await amqplib.connect(target.urlFor("defs-user", "defs-pass", "defs"));
    const channel = await connection.createChannel();
    await channel.checkQueue("defs-q");
    await connection.close();
  } finally {
    await target.stop();
  }
});

test("a definitions file exported by RabbitMQ 3.10 imports, and its users log in over AMQP", async () => {
  const file = JSON.parse(
    await readFile(
      new URL("../../../../test/e2e/management/fixtures/rabbitmq-3.10-definitions.json", import.meta.url),
      "utf8",
    ),
  ) as Item;
  const target = await TestBroker.start();
  try {
    const targetApi = Api.of(target);
    assert.equal((await targetApi.post("/api/definitions", file)).status, 204);
    const connection = await amqplib.connect(target.urlFor("fixture-user", "fixture-pass", "fixture-vh"));
    const channel = await connection.createChannel();
    const queue = await channel.checkQueue("fixture-q");
    assert.equal(queue.queue, "fixture-q");
    channel.publish("fixture-x", "any", Buffer.from("via fanout"));
    await connection.close();
    const q = await targetApi.json<Item>("/api/queues/fixture-vh/fixture-q");
    assert.deepEqual([q["durable"], q["arguments"], q["policy"]], [true, { "x-max-length": 100 }, "fixture-pol"]);
    assert.deepEqual(await targetApi.json<Item>("/api/users/fixture-user").then((u) => u["tags"]), ["management"]);
  } finally {
    await target.stop();
  }
});

test("per-vhost export and import omit the vhost field", async () => {
  const vhostDefs = await api.json<Item>("/api/definitions/defs");
  assert.deepEqual(Object.keys(vhostDefs), [
    "rabbit_version",
    "parameters",
    "policies",
    "queues",
    "exchanges",
    "bindings",
  ]);
  assert.equal((vhostDefs["queues"] as Item[])[0]?.["vhost"], undefined);
  await api.put("/api/vhosts/defs-copy");
  assert.equal((await api.post("/api/definitions/defs-copy", vhostDefs)).status, 204);
  assert.deepEqual(
    (await api.json<Item[]>("/api/queues/defs-copy")).map((q) => q["name"]),
    ["defs-q"],
  );
  assert.equal((await api.get("/api/definitions/no-such-vhost")).status, 404);
});

test("?download= makes the export an attachment", async () => {
  const response = await api.get("/api/definitions?download=warren.json");
  assert.equal(response.headers.get("content-disposition"), 'attachment; filename="warren.json"');
});

test("a definitions file with a binding to a missing queue is skipped with 204 (RabbitMQ 3.10), bad files are 400", async () => {
  const response = await api.post("/api/definitions", {
    bindings: [
      {
        source: "amq.direct",
        vhost: "/",
        destination: "missing-q",
        destination_type: "queue",
        routing_key: "k",
        arguments: {},
      },
    ],
  });
  assert.equal(response.status, 204);
  const bindings = await api.json<Item[]>("/api/bindings/%2F");
  assert.deepEqual(
    bindings.filter((b) => b["destination"] === "missing-q"),
    [],
  );
  const notJson = await api.request("POST", "/api/definitions", "][");
  assert.deepEqual([notJson.status, notJson.json], [400, { error: "bad_request", reason: "not_json" }]);
  const badList = await api.post("/api/definitions", { queues: "nope" });
  assert.deepEqual(
    [badList.status, badList.json],
    [400, { error: "bad_request", reason: "'queues' must be a list of objects" }],
  );
  const unknownVhost = await api.post("/api/definitions", { queues: [{ name: "q", vhost: "nowhere", durable: true }] });
  assert.deepEqual(
    [unknownVhost.status, unknownVhost.json],
    [400, { error: "bad_request", reason: "queue: vhost 'nowhere' does not exist" }],
  );
});

test("definitions are for administrators only", async () => {
  const response = await api.as("defs-user", "defs-pass").get("/api/definitions");
  assert.deepEqual(
    [response.status, response.json],
    [401, { error: "not_authorised", reason: "Not administrator user" }],
  );
});
