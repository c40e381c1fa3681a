import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";
import { assertExit, ctlFor, rows } from "./ctl-run.js";

// `warren ctl` queues, exchanges, bindings, policies and connections.
const warren = useBroker();
const api = Api.lazy(warren);
const ctl = ctlFor(warren);

test("list_queues with info items, --format json, purge_queue and delete_queue", async () => {
  await api.put("/api/queues/%2F/ctl-q", {});
  for (const payload of ["a", "b"]) {
    await api.post("/api/exchanges/%2F/amq.default/publish", {
      properties: {},
      routing_key: "ctl-q",
      payload,
      payload_encoding: "string",
    });
  }
  const table = await ctl("list_queues", "name", "messages", "durable");
  assert.match(table.stdout, /Listing queues for vhost \/ \.\.\.\nname\tmessages\tdurable\nctl-q\t2\tfalse\n/);
  const json = await ctl("--format", "json", "list_queues", "name", "messages");
  assert.deepEqual(JSON.parse(json.stdout), [{ name: "ctl-q", messages: 2 }]);
  assert.equal((await ctl("purge_queue", "ctl-q")).code, 0);
  assert.equal((await api.json<Item>("/api/queues/%2F/ctl-q"))["messages"], 0);
  assert.equal((await ctl("delete_queue", "ctl-q")).code, 0);
  assert.equal((await api.get("/api/queues/%2F/ctl-q")).status, 404);
  const missing = await ctl("delete_queue", "ctl-q");
  assert.deepEqual([missing.code, missing.stderr], [70, "Error:\nQueue 'ctl-q' in vhost '/' does not exist\n"]);
});

test("list_exchanges and list_bindings use rabbitmqctl's columns", async () => {
  await api.put("/api/queues/%2F/ctl-bq", {});
  await api.post("/api/bindings/%2F/e/amq.topic/q/ctl-bq", { routing_key: "a.*" });
  const exchanges = rows((await ctl("-q", "list_exchanges")).stdout);
  assert.ok(exchanges.some((r) => r.join("|") === "amq.topic|topic"));
  const bindings = await ctl("-q", "list_bindings");
  assert.equal(
    bindings.stdout.split("\n")[0],
    "source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments",
  );
  assert.ok(rows(bindings.stdout).some((r) => r.join("|") === "amq.topic|exchange|ctl-bq|queue|a.*|{}"));
});

test("set_policy, list_policies and clear_policy", async () => {
  const set = await ctl(
    "set_policy",
    "--priority",
    "3",
    "--apply-to",
    "queues",
    "ctl-pol",
    "^ctl-",
    '{"max-length":10}',
  );
  assert.equal(set.code, 0);
  assert.deepEqual(rows((await ctl("-q", "list_policies")).stdout), [
    ["/", "ctl-pol", "^ctl-", "queues", '{"max-length":10}', "3"],
  ]);
  assert.equal((await ctl("clear_policy", "ctl-pol")).code, 0);
  assert.deepEqual(rows((await ctl("-q", "list_policies")).stdout), []);
  const badJson = await ctl("set_policy", "p", "^x", "{not json");
  assert.equal(badJson.code, 64);
  // Refused by the broker (RabbitMQ 3.10's validation): exit 70 and the text as rabbitmqctl prints it, unescaped.
  const badKey = await ctl("set_policy", "p", "^x", '{"foo":1,"max-length":"x"}');
  assert.equal(badKey.code, 70);
  assert.match(badKey.stderr, /<<"x">> is not a valid maximum length/);
  assert.deepEqual(await api.json("/api/policies"), []);
});

test("list_connections, list_channels, list_consumers, close_connection", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = new Promise<Error>((resolve) => connection.on("close", resolve));
  const channel = await connection.createChannel();
  await channel.assertQueue("ctl-cq");
  await channel.consume("ctl-cq", () => {}, { consumerTag: "ctl-tag" });
  await waitFor(async () => (await api.json<Item[]>("/api/consumers")).length === 1);
  const connections = rows((await ctl("-q", "list_connections", "name", "user", "vhost")).stdout);
  assert.equal(connections.length, 1);
  const [name, user, vhost] = connections[0] as string[];
  assert.deepEqual([user, vhost], ["guest", "/"]);
  assert.deepEqual(rows((await ctl("-q", "list_channels", "number", "user", "consumer_count")).stdout), [
    ["1", "guest", "1"],
  ]);
  const consumers = rows((await ctl("-q", "list_consumers", "queue_name", "consumer_tag", "ack_required")).stdout);
  assert.deepEqual(consumers, [["ctl-cq", "ctl-tag", "true"]]);
  assert.equal((await ctl("close_connection", String(name), "go away")).code, 0);
  assert.match((await closed).message, /CONNECTION_FORCED - go away/);
});

test("close_all_connections closes the vhost's connections with the explanation; --global closes every vhost's", async () => {
  await api.put("/api/vhosts/ctl-cac");
  await api.put("/api/permissions/ctl-cac/guest", { configure: ".*", write: ".*", read: ".*" });
  const inDefault = await amqplib.connect(warren.broker.url);
  const inOther = await amqplib.connect(`${warren.broker.url}/ctl-cac`);
  const closes = [inDefault, inOther].map((connection) => {
    connection.on("error", () => {});
    return new Promise<Error>((resolve) => connection.on("close", resolve));
  });
  await waitFor(async () => (await api.json<Item[]>("/api/connections")).length === 2);
  assertExit(await ctl("close_all_connections"), 64);
  const run = await ctl("close_all_connections", "maintenance");
  assert.deepEqual([run.code, run.stdout], [0, "Closing all connections in vhost / ...\nClosed 1 connection(s)\n"]);
  assert.match((await closes[0])?.message ?? "", /CONNECTION_FORCED - maintenance/);
  // The other vhost's connection is untouched until --global.
  await (await inOther.createChannel()).checkExchange("amq.topic");
  assertExit(await ctl("close_all_connections", "--global", "everyone"), 0);
  assert.match((await closes[1])?.message ?? "", /CONNECTION_FORCED - everyone/);
  await api.delete("/api/vhosts/ctl-cac");
});
