import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker({}, async (broker) => {
  const api = new Api(() => broker.broker.urls.http ?? "", { user: "guest", password: "guest" });
  await api.put("/api/users/mon", { password: "mon", tags: "monitoring" });
  await api.put("/api/permissions/%2F/mon", { configure: ".*", write: ".*", read: ".*" });
});
const api = Api.lazy(warren);

test("operator policies: put, list, get, delete, as RabbitMQ answers them", async () => {
  const body = { pattern: "^op-", definition: { "max-length": 10 }, "apply-to": "queues" };
  assert.equal((await api.put("/api/operator-policies/%2F/op1", body)).status, 201);
  assert.equal((await api.put("/api/operator-policies/%2F/op1", body)).status, 204);
  const expected = {
    vhost: "/",
    name: "op1",
    pattern: "^op-",
    "apply-to": "queues",
    definition: { "max-length": 10 },
    priority: 0,
  };
  assert.deepEqual(await api.json("/api/operator-policies"), [expected]);
  assert.deepEqual(await api.json("/api/operator-policies/%2F/op1"), expected);
  assert.deepEqual(await api.json("/api/policies"), []);
  assert.equal((await api.delete("/api/operator-policies/%2F/op1")).status, 204);
  const gone = await api.get("/api/operator-policies/%2F/op1");
  assert.equal(gone.status, 404);
  assert.deepEqual(gone.json, { error: "Object Not Found", reason: "Not Found" });
});

test("an operator policy with a key it may not set is refused with RabbitMQ's text", async () => {
  const response = await api.put("/api/operator-policies/%2F/bad", { pattern: "^x", definition: { "ha-mode": "all" } });
  assert.equal(response.status, 400);
  assert.deepEqual(response.json, {
    error: "bad_request",
    reason: 'Validation failed\n\n[{<<"ha-mode">>,<<"all">>}] are not recognised policy settings\n',
  });
  assert.equal((await api.get("/api/operator-policies/%2F/bad")).status, 404);
});

test("only administrators change operator policies or read feature flags (RabbitMQ 3.10's answers)", async () => {
  const mon = api.as("mon", "mon");
  const put = await mon.put("/api/operator-policies/%2F/x", { pattern: "^x", definition: { "max-length": 1 } });
  const flags = await mon.get("/api/feature-flags");
  for (const response of [put, flags]) {
    assert.equal(response.status, 401);
    assert.deepEqual(response.json, { error: "not_authorised", reason: "Not administrator user" });
  }
  assert.deepEqual(await mon.json("/api/operator-policies"), []);
  assert.equal((await api.get("/api/operator-policies/%2F/x")).status, 404);
});

test("feature flags, parameters, global parameters and auth answer in RabbitMQ's shapes", async () => {
  const flags = await api.json<Item[]>("/api/feature-flags");
  assert.ok(flags.some((f) => f["name"] === "quorum_queue" && f["state"] === "enabled" && f["stability"] === "stable"));
  assert.deepEqual(await api.json("/api/parameters"), []);
  assert.deepEqual(await api.json("/api/parameters/shovel/%2F"), []);
  assert.equal((await api.get("/api/parameters/shovel/%2F/nope")).status, 404);
  const [id] = await api.json<Item[]>("/api/global-parameters");
  assert.equal(id?.["name"], "internal_cluster_id");
  assert.match(String(id?.["value"]), /^rabbitmq-cluster-id-[A-Za-z0-9_-]{22}$/);
  assert.deepEqual(await api.json("/api/global-parameters/internal_cluster_id"), id);
  assert.equal((await api.get("/api/global-parameters/nope")).status, 404);
  // /api/auth needs no login: RabbitMQ's UI asks it before the login form.
  const auth = await api.anonymous().get("/api/auth");
  assert.equal(auth.status, 200);
  assert.deepEqual(auth.json, { enable_uaa: false, uaa_client_id: "", uaa_location: "" });
  assert.equal((await api.anonymous().get("/api/overview")).status, 401);
});

test("/api/overview lists the plugin exchange types Warren implements", async () => {
  const names = ((await api.json<Item>("/api/overview"))["exchange_types"] as Item[]).map((t) => t["name"]);
  assert.deepEqual(names, [
    "direct",
    "fanout",
    "headers",
    "topic",
    "x-consistent-hash",
    "x-delayed-message",
    "x-random",
  ]);
});
