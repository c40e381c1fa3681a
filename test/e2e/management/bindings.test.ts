import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker({}, async () => {
  await api.put("/api/queues/%2F/bq", {});
  await api.put("/api/exchanges/%2F/bx", { type: "topic" });
  await api.put("/api/exchanges/%2F/bx2", { type: "fanout" });
});
const api = Api.lazy(warren);

test("POST creates a queue binding with a Location; the binding lists and routes", async () => {
  const response = await api.post("/api/bindings/%2F/e/bx/q/bq", { routing_key: "a.#", arguments: {} });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("location"), "../../../../%2F/e/bx/q/bq/a.%23");
  assert.deepEqual(await api.json("/api/bindings/%2F/e/bx/q/bq"), [
    {
      source: "bx",
      vhost: "/",
      destination: "bq",
      destination_type: "queue",
      routing_key: "a.#",
      arguments: {},
      properties_key: "a.%23",
    },
  ]);
  assert.deepEqual(await api.json("/api/bindings/%2F/e/bx/q/bq/a.%23"), {
    source: "bx",
    vhost: "/",
    destination: "bq",
    destination_type: "queue",
    routing_key: "a.#",
    arguments: {},
    properties_key: "a.%23",
  });
  // RabbitMQ's UI percent-encodes the properties_key once more; that names the same binding.
  assert.equal((await api.get("/api/bindings/%2F/e/bx/q/bq/a.%2523")).status, 200);
  const routed = await api.post("/api/exchanges/%2F/bx/publish", {
    properties: {},
    routing_key: "a.b.c",
    payload: "x",
    payload_encoding: "string",
  });
  assert.deepEqual(routed.json, { routed: true });
});

test("the default exchange's implicit binding is listed first, as RabbitMQ lists it", async () => {
  const bindings = await api.json<Item[]>("/api/queues/%2F/bq/bindings");
  assert.deepEqual(
    bindings.map((b) => [b["source"], b["routing_key"]]),
    [
      ["", "bq"],
      ["bx", "a.#"],
    ],
  );
  const all = await api.json<Item[]>("/api/bindings/%2F");
  assert.ok(all.some((b) => b["source"] === "" && b["destination"] === "bq"));
  assert.deepEqual(
    (await api.json<Item[]>("/api/exchanges/%2F/bx/bindings/source")).map((b) => b["destination"]),
    ["bq"],
  );
});

test("bindings with arguments get a properties_key with an argument hash", async () => {
  await api.post("/api/bindings/%2F/e/bx/q/bq", { routing_key: "k", arguments: { x: 1 } });
  const withArgs = (await api.json<Item[]>("/api/bindings/%2F/e/bx/q/bq")).find((b) => b["routing_key"] === "k");
  assert.ok(withArgs);
  assert.match(String(withArgs["properties_key"]), /^k~.+/);
  assert.deepEqual(withArgs["arguments"], { x: 1 });
  assert.equal(
    (await api.delete(`/api/bindings/%2F/e/bx/q/bq/${encodeURIComponent(String(withArgs["properties_key"]))}`)).status,
    204,
  );
});

test("exchange-to-exchange bindings use the /e/ form", async () => {
  assert.equal((await api.post("/api/bindings/%2F/e/bx2/e/bx", { routing_key: "" })).status, 201);
  assert.deepEqual(await api.json("/api/bindings/%2F/e/bx2/e/bx"), [
    {
      source: "bx2",
      vhost: "/",
      destination: "bx",
      destination_type: "exchange",
      routing_key: "",
      arguments: {},
      properties_key: "~",
    },
  ]);
  assert.deepEqual(
    (await api.json<Item[]>("/api/exchanges/%2F/bx/bindings/destination")).map((b) => b["source"]),
    ["bx2"],
  );
  assert.equal((await api.delete("/api/bindings/%2F/e/bx2/e/bx/~")).status, 204);
  assert.deepEqual(await api.json("/api/bindings/%2F/e/bx2/e/bx"), []);
});

test("DELETE removes a binding; deleting it again is 404", async () => {
  assert.equal((await api.delete("/api/bindings/%2F/e/bx/q/bq/a.%23")).status, 204);
  const again = await api.delete("/api/bindings/%2F/e/bx/q/bq/a.%23");
  assert.deepEqual([again.status, again.json], [404, { error: "Object Not Found", reason: "Not Found" }]);
});

test("binding to a missing queue is 404 with the broker's text", async () => {
  const response = await api.post("/api/bindings/%2F/e/bx/q/nosuchq", { routing_key: "rk" });
  assert.deepEqual(
    [response.status, response.json],
    [404, { error: "not_found", reason: "no queue 'nosuchq' in vhost '/'" }],
  );
  assert.equal((await api.get("/api/bindings/%2F/e/bx/q/nosuchq")).status, 404);
});
