/**
 * Vhost metadata (description, tags, default queue type, tracing) through
 * PUT/GET /api/vhosts, /api/definitions and a restart. Expected answers are
 * what RabbitMQ 3.10.8 gave for the same requests.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TestBroker } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);
const dataDirs = useDataDirs("warren-vhost-metadata");

/** The metadata fields of GET /api/vhosts/{name} (the rest are stats). */
async function metadataOf(client: Api, name: string): Promise<Item> {
  const vhost = await client.json<Item>(`/api/vhosts/${encodeURIComponent(name)}`);
  const { description, tags, default_queue_type, metadata, tracing } = vhost;
  return { name: vhost["name"], description, tags, default_queue_type, metadata, tracing };
}

test("PUT /api/vhosts stores description, tags, default queue type and tracing; GET shows them as RabbitMQ 3.10", async () => {
  const put = await api.put("/api/vhosts/md1", {
    description: "hello",
    tags: "a, b",
    defaultqueuetype: "quorum",
    tracing: true,
  });
  assert.equal(put.status, 201);
  const expected = {
    name: "md1",
    description: "hello",
    tags: ["a", "b"],
    default_queue_type: "quorum",
    metadata: { default_queue_type: "quorum", description: "hello", tags: ["a", "b"] },
    tracing: true,
  };
  assert.deepEqual(await metadataOf(api, "md1"), expected);
  const listed = (await api.json<Item[]>("/api/vhosts")).find((v) => v["name"] === "md1");
  assert.deepEqual(listed?.["metadata"], expected.metadata);
});

test("a vhost without metadata shows empty description and tags and default_queue_type 'undefined'", async () => {
  assert.equal((await api.put("/api/vhosts/md-plain", {})).status, 201);
  assert.deepEqual(await metadataOf(api, "md-plain"), {
    name: "md-plain",
    description: "",
    tags: [],
    default_queue_type: "undefined",
    metadata: { description: "", tags: [] },
    tracing: false,
  });
});

test("an update replaces description and tags, keeps the default queue type, and changes tracing only when given", async () => {
  await api.put("/api/vhosts/md2", {
    description: "first",
    tags: ["x", "y"],
    defaultqueuetype: "stream",
    tracing: true,
  });
  assert.equal((await api.put("/api/vhosts/md2", { defaultqueuetype: "classic" })).status, 204);
  assert.deepEqual(await metadataOf(api, "md2"), {
    name: "md2",
    description: "",
    tags: [],
    default_queue_type: "stream",
    metadata: { default_queue_type: "stream", description: "", tags: [] },
    tracing: true,
  });
  assert.equal((await api.put("/api/vhosts/md2", { description: "second", tracing: false })).status, 204);
  const after = await metadataOf(api, "md2");
  assert.deepEqual([after["description"], after["tracing"]], ["second", false]);
});

test("bad metadata is 400 and creates no vhost", async () => {
  const cases: Array<[object, unknown]> = [
    [{ tracing: "yes" }, ["not_boolean", "yes"]],
    [{ defaultqueuetype: "bogus" }, "invalid_queue_type"],
    [{ defaultqueuetype: "undefined" }, "invalid_queue_type"],
    [{ tags: 5 }, "tags must be a string or a list"],
    [{ description: 5 }, "description must be a string"],
  ];
  for (const [body, reason] of cases) {
    const response = await api.put("/api/vhosts/md-bad", body);
    assert.deepEqual([response.status, response.json], [400, { error: "bad_request", reason }], JSON.stringify(body));
    assert.equal((await api.get("/api/vhosts/md-bad")).status, 404);
  }
  // The broker still serves: a good PUT after the bad ones works.
  assert.equal((await api.put("/api/vhosts/md-bad", { description: "ok" })).status, 201);
  assert.equal((await metadataOf(api, "md-bad"))["description"], "ok");
});

test("GET /api/definitions exports vhost metadata and importing the file into another broker restores it", async () => {
  await api.put("/api/vhosts/md-export", { description: "exported", tags: "t1,t2", defaultqueuetype: "quorum" });
  const definitions = await api.json<Item>("/api/definitions");
  const vhosts = definitions["vhosts"] as Item[];
  assert.deepEqual(
    vhosts.find((v) => v["name"] === "md-export"),
    { name: "md-export", metadata: { default_queue_type: "quorum", description: "exported", tags: ["t1", "t2"] } },
  );
  const other = await TestBroker.start();
  try {
    const otherApi = Api.of(other);
    assert.equal((await otherApi.post("/api/definitions", definitions)).status, 204);
    for (const name of ["md-export", "md1"])
      assert.deepEqual(await metadataOf(otherApi, name), { ...(await metadataOf(api, name)), tracing: false });
  } finally {
    await other.stop();
  }
});

test("import reads top-level fields before 'metadata', maps 'undefined' to no type, and keeps an existing vhost's type", async () => {
  const body = {
    vhosts: [
      {
        name: "md-top",
        description: "top",
        tags: ["t"],
        default_queue_type: "stream",
        tracing: true,
        metadata: { description: "inner", tags: ["i"] },
      },
      { name: "md-inner", metadata: { description: "inner", tags: "i1,i2", default_queue_type: "quorum" } },
      { name: "md-undef", default_queue_type: "undefined" },
      { name: "md2", description: "imported", default_queue_type: "classic" },
    ],
  };
  assert.equal((await api.post("/api/definitions", body)).status, 204);
  assert.deepEqual(await metadataOf(api, "md-top"), {
    name: "md-top",
    description: "top",
    tags: ["t"],
    default_queue_type: "stream",
    metadata: { default_queue_type: "stream", description: "top", tags: ["t"] },
    tracing: true,
  });
  assert.deepEqual((await metadataOf(api, "md-inner"))["metadata"], {
    default_queue_type: "quorum",
    description: "inner",
    tags: ["i1", "i2"],
  });
  assert.equal((await metadataOf(api, "md-undef"))["default_queue_type"], "undefined");
  // md2 was created as "stream" by an earlier test's PUT; as on RabbitMQ, an import does not change it.
  const md2 = await metadataOf(api, "md2");
  assert.deepEqual([md2["description"], md2["default_queue_type"]], ["imported", "stream"]);
});

test("an import with a bad vhost queue type is 400 and the broker still serves", async () => {
  const response = await api.post("/api/definitions", {
    vhosts: [{ name: "md-badimport", default_queue_type: "bogus" }],
  });
  assert.deepEqual([response.status, response.json], [400, { error: "bad_request", reason: "invalid_queue_type" }]);
  assert.equal((await api.get("/api/vhosts/md-badimport")).status, 404);
  await warren.broker.assertHealthy();
});

test("vhost metadata survives a restart with a data dir; tracing (runtime state in RabbitMQ) does not", async () => {
  const data = await dataDirs.fresh("restart");
  await withBrokerOn(data, async (first) => {
    const firstApi = Api.of(first);
    await firstApi.put("/api/vhosts/kept", {
      description: "durable",
      tags: ["p", "q"],
      defaultqueuetype: "quorum",
      tracing: true,
    });
    await firstApi.put("/api/vhosts/%2F", { description: "default vhost", tags: "root" });
  });
  await withBrokerOn(data, async (second) => {
    const secondApi = Api.of(second);
    assert.deepEqual(await metadataOf(secondApi, "kept"), {
      name: "kept",
      description: "durable",
      tags: ["p", "q"],
      default_queue_type: "quorum",
      metadata: { default_queue_type: "quorum", description: "durable", tags: ["p", "q"] },
      tracing: false,
    });
    assert.deepEqual((await metadataOf(secondApi, "/"))["metadata"], { description: "default vhost", tags: ["root"] });
  });
});
