import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

/**
 * A definitions import is all-or-nothing: a file with one bad entry answers
 * 400 bad_request (RabbitMQ's status for it) and changes nothing, where
 * RabbitMQ 3.10 keeps the entries before the bad one (observed: a valid
 * queue listed before one with "x-max-length": "abc" was created).
 */
const warren = useBroker();
const api = Api.lazy(warren);

const queue = (name: string, vhost = "/", args: Item = {}): Item => ({
  name,
  vhost,
  durable: true,
  auto_delete: false,
  arguments: args,
});

async function snapshot(): Promise<Item> {
  const { product_version: _v, ...rest } = await api.json<Item>("/api/definitions");
  return rest;
}

async function assertRefusedAndUnchanged(body: Item, reason: RegExp): Promise<void> {
  const before = await snapshot();
  const response = await api.post("/api/definitions", body);
  assert.equal(response.status, 400, response.text);
  assert.equal((response.json as Item)["error"], "bad_request");
  assert.match(String((response.json as Item)["reason"]), reason);
  assert.deepEqual(await snapshot(), before);
}

test("a bad queue argument after valid users, vhosts, permissions, policies and queues leaves all of them out", async () => {
  await assertRefusedAndUnchanged(
    {
      users: [{ name: "atomic-user", password: "pw", tags: "" }],
      vhosts: [{ name: "atomic-vh" }],
      permissions: [{ user: "atomic-user", vhost: "atomic-vh", configure: ".*", write: ".*", read: ".*" }],
      topic_permissions: [{ user: "atomic-user", vhost: "atomic-vh", exchange: "amq.topic", write: ".*", read: ".*" }],
      policies: [
        {
          name: "atomic-pol",
          vhost: "atomic-vh",
          pattern: ".*",
          definition: { "max-length": 3 },
          "apply-to": "queues",
          priority: 0,
        },
      ],
      queues: [queue("atomic-ok", "atomic-vh"), queue("atomic-bad", "atomic-vh", { "x-max-length": "abc" })],
    },
    /x-max-length/,
  );
  assert.equal((await api.get("/api/users/atomic-user")).status, 404);
  assert.equal((await api.get("/api/vhosts/atomic-vh")).status, 404);
});

test("an unknown exchange type, a binding in a missing vhost, a bad regex or an unknown user each change nothing", async () => {
  await assertRefusedAndUnchanged(
    {
      queues: [queue("atomic-q1")],
      exchanges: [
        {
          name: "atomic-x",
          vhost: "/",
          type: "no-such-type",
          durable: true,
          auto_delete: false,
          internal: false,
          arguments: {},
        },
      ],
    },
    /unknown exchange type 'no-such-type'/,
  );
  await assertRefusedAndUnchanged(
    {
      queues: [queue("atomic-q2")],
      bindings: [
        {
          source: "amq.topic",
          vhost: "atomic-no-vhost",
          destination: "atomic-q2",
          destination_type: "queue",
          routing_key: "k",
          arguments: {},
        },
      ],
    },
    /binding: vhost 'atomic-no-vhost' does not exist/,
  );
  await assertRefusedAndUnchanged(
    {
      users: [{ name: "atomic-u2", password: "pw", tags: "" }],
      permissions: [{ user: "atomic-u2", vhost: "/", configure: "(", write: ".*", read: ".*" }],
    },
    /invalid regular expression/,
  );
  await assertRefusedAndUnchanged(
    {
      queues: [queue("atomic-q3")],
      permissions: [{ user: "nobody", vhost: "/", configure: ".*", write: ".*", read: ".*" }],
    },
    /nobody/,
  );
  await assertRefusedAndUnchanged(
    { queues: [queue("atomic-q4"), queue("atomic-q5", "no-such-vhost")] },
    /vhost 'no-such-vhost' does not exist/,
  );
});

test("a redeclaration that is not equivalent is refused whole, an equivalent one and new objects go in together", async () => {
  assert.equal(
    (await api.put("/api/queues/%2F/atomic-existing", { durable: true, arguments: { "x-max-length": 5 } })).status,
    201,
  );
  await assertRefusedAndUnchanged(
    { queues: [queue("atomic-new"), queue("atomic-existing", "/", { "x-max-length": 6 })] },
    /inequivalent arg 'x-max-length'/,
  );
  const ok = await api.post("/api/definitions", {
    queues: [queue("atomic-new"), queue("atomic-existing", "/", { "x-max-length": 5 })],
    bindings: [
      {
        source: "amq.topic",
        vhost: "/",
        destination: "atomic-new",
        destination_type: "queue",
        routing_key: "k",
        arguments: {},
      },
    ],
  });
  assert.equal(ok.status, 204, ok.text);
  assert.equal((await api.get("/api/queues/%2F/atomic-new")).status, 200);
  assert.equal((await api.json<Item[]>("/api/queues/%2F/atomic-new/bindings")).length, 2);
  // The broker still serves a client after the refused imports (the fixture also checks a fresh AMQP client).
  await api.delete("/api/queues/%2F/atomic-new");
  await api.delete("/api/queues/%2F/atomic-existing");
});

test("a per-vhost import (POST /api/definitions/{vhost}) is all-or-nothing too", async () => {
  await api.put("/api/vhosts/atomic-one");
  const before = await api.json<Item>("/api/definitions/atomic-one");
  const response = await api.post("/api/definitions/atomic-one", {
    queues: [{ name: "atomic-v1", durable: true, auto_delete: false, arguments: {} }],
    exchanges: [{ name: "atomic-vx", type: "nope", durable: true, auto_delete: false, internal: false, arguments: {} }],
  });
  assert.equal(response.status, 400);
  assert.deepEqual(await api.json<Item>("/api/definitions/atomic-one"), before);
  await api.delete("/api/vhosts/atomic-one");
});

test("an import while a stream exists is checked against a copy that has the stream too", async () => {
  // The dry run's scratch broker had no place for streams: copying the live stream into it
  // failed, and every import answered 400 while any stream existed.
  const stream = { durable: true, auto_delete: false, arguments: { "x-queue-type": "stream" } };
  assert.equal((await api.put("/api/queues/%2F/defs-live-stream", stream)).status, 201);
  const response = await api.post("/api/definitions", {
    queues: [queue("defs-beside-stream"), { ...queue("defs-new-stream"), arguments: { "x-queue-type": "stream" } }],
  });
  assert.equal(response.status, 204, response.text);
  for (const name of ["defs-live-stream", "defs-beside-stream", "defs-new-stream"]) {
    assert.equal((await api.get(`/api/queues/%2F/${name}`)).status, 200, name);
  }
  const { type } = await api.json<Item>("/api/queues/%2F/defs-new-stream");
  assert.equal(type, "stream");
  for (const name of ["defs-live-stream", "defs-beside-stream", "defs-new-stream"]) {
    assert.equal((await api.delete(`/api/queues/%2F/${name}`)).status, 204);
  }
});
