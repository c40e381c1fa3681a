import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);

test("overview carries RabbitMQ's top-level fields and the listeners", async () => {
  const overview = await api.json<Item>("/api/overview");
  for (const key of [
    "management_version",
    "rabbitmq_version",
    "product_name",
    "product_version",
    "exchange_types",
    "message_stats",
    "queue_totals",
    "object_totals",
    "node",
    "listeners",
  ]) {
    assert.ok(key in overview, key);
  }
  assert.equal(overview["rabbitmq_version"], "3.10.8");
  const listeners = overview["listeners"] as Item[];
  assert.ok(listeners.some((l) => l["protocol"] === "amqp" && l["port"] === warren.broker.port));
  assert.ok(listeners.some((l) => l["protocol"] === "http" && l["port"] === warren.broker.broker.ports.http));
  assert.deepEqual((overview["queue_totals"] as Item)["messages_details"], { rate: 0 });
});

test("nodes lists this node, also by name; an unknown node is 404", async () => {
  const nodes = await api.json<Item[]>("/api/nodes");
  assert.equal(nodes.length, 1);
  const node = nodes[0] as Item;
  assert.deepEqual([node["running"], node["mem_alarm"], node["disk_free_alarm"]], [true, false, false]);
  assert.equal((await api.json<Item>(`/api/nodes/${encodeURIComponent(String(node["name"]))}`))["name"], node["name"]);
  assert.equal((await api.get("/api/nodes/rabbit@elsewhere")).status, 404);
});

test("aliveness-test publishes and consumes in the vhost", async () => {
  assert.deepEqual(await api.json("/api/aliveness-test/%2F"), { status: "ok" });
  assert.equal((await api.get("/api/aliveness-test/no-such-vhost")).status, 404);
});

test("health checks answer ok, and 503 with status failed while an alarm is set", async () => {
  assert.deepEqual(await api.json("/api/health/checks/alarms"), { status: "ok" });
  assert.deepEqual(await api.json("/api/health/checks/virtual-hosts"), { status: "ok" });
  assert.deepEqual(await api.json(`/api/health/checks/port-listener/${warren.broker.port}`), {
    status: "ok",
    port: warren.broker.port,
  });
  assert.deepEqual(await api.json("/api/health/checks/protocol-listener/amqp"), { status: "ok", protocol: "amqp" });
  const noPort = await api.get("/api/health/checks/port-listener/1");
  assert.equal(noPort.status, 503);
  assert.equal((noPort.json as Item)["status"], "failed");
  warren.broker.broker.core.setBlocked("memory");
  try {
    const alarm = await api.get("/api/health/checks/alarms");
    assert.equal(alarm.status, 503);
    assert.deepEqual(
      [(alarm.json as Item)["status"], (alarm.json as Item)["reason"]],
      ["failed", "resource alarm(s) in effect in the cluster"],
    );
  } finally {
    warren.broker.broker.core.setBlocked(null);
  }
});
