import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker({}, async () => {
  for (const name of ["beta", "alpha", "gamma-1", "gamma-2", "Delta"]) await api.put(`/api/queues/%2F/${name}`, {});
  await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "gamma-1",
    payload: "x",
    payload_encoding: "string",
  });
});
const api = Api.lazy(warren);

const names = (items: Item[]): unknown[] => items.map((i) => i["name"]);

test("lists are sorted by vhost and name unless asked otherwise", async () => {
  assert.deepEqual(names(await api.json<Item[]>("/api/queues")), ["Delta", "alpha", "beta", "gamma-1", "gamma-2"]);
  assert.deepEqual(names(await api.json<Item[]>("/api/queues?sort=name&sort_reverse=true")), [
    "gamma-2",
    "gamma-1",
    "beta",
    "alpha",
    "Delta",
  ]);
  const byDepth = await api.json<Item[]>("/api/queues?sort=messages&sort_reverse=true");
  assert.equal(byDepth[0]?.["name"], "gamma-1");
});

test("page and page_size give RabbitMQ's paged envelope", async () => {
  assert.deepEqual(await api.json("/api/queues?page=2&page_size=2&columns=name"), {
    filtered_count: 5,
    item_count: 2,
    items: [{ name: "beta" }, { name: "gamma-1" }],
    page: 2,
    page_count: 3,
    page_size: 2,
    total_count: 5,
  });
});

test("name filters by substring, or by regex with use_regex, case-insensitively", async () => {
  const substring = await api.json<Item>("/api/queues?page=1&name=GAMMA&columns=name");
  assert.deepEqual(
    [substring["filtered_count"], substring["total_count"], substring["items"]],
    [2, 5, [{ name: "gamma-1" }, { name: "gamma-2" }]],
  );
  const regex = await api.json<Item>("/api/queues?page=1&name=%5E(a%7Cd)&use_regex=true&columns=name");
  assert.deepEqual(regex["items"], [{ name: "Delta" }, { name: "alpha" }]);
});

test("columns keeps nested fields by dotted path", async () => {
  const items = await api.json<Item[]>("/api/queues?columns=name,message_stats.publish&sort=name");
  assert.deepEqual(
    items.find((i) => i["name"] === "gamma-1"),
    { name: "gamma-1", message_stats: { publish: 1 } },
  );
});

test("a page past the end is 400 page_out_of_range", async () => {
  const response = await api.get("/api/queues?page=9&page_size=1");
  assert.deepEqual(
    [response.status, response.json],
    [400, { error: "page_out_of_range", reason: "Page out of range, page: 9 page size: 1, len: 5" }],
  );
});

test("bad paging parameters are 400", async () => {
  assert.equal((await api.get("/api/queues?page=0")).status, 400);
  assert.equal((await api.get("/api/queues?page=1&page_size=501")).status, 400);
  assert.equal((await api.get("/api/queues?page=1&name=(&use_regex=true")).status, 400);
});
