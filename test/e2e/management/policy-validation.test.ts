import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);

/** RabbitMQ's /api/policies escapes its texts for HTML; /api/operator-policies does not. */
const escaped = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Definitions and the reason RabbitMQ 3.10 gave for each (PUT /api/policies/%2F/p on the reference node). */
const REFUSED: [Record<string, unknown>, string][] = [
  [{ foo: 1 }, '[{<<"foo">>,1}] are not recognised policy settings'],
  [{ foo: 1, bar: "x" }, '[{<<"bar">>,<<"x">>},{<<"foo">>,1}] are not recognised policy settings'],
  [{ "x-max-length": { a: 1 } }, '[{<<"x-max-length">>,#{<<"a">> => 1}}] are not recognised policy settings'],
  [{ 'a&b"': 1 }, '[{<<"a&b\\"">>,1}] are not recognised policy settings'],
  [{ "max-length": "ten" }, '<<"ten">> is not a valid maximum length'],
  [{ "max-length": -1 }, "-1 is not a valid maximum length"],
  [{ "max-length": 1.5 }, "1.5 is not a valid maximum length"],
  [{ "max-length": true }, "true is not a valid maximum length"],
  [{ "max-length": null }, "null is not a valid maximum length"],
  [{ "max-length": [1, "a"] }, '[1,<<"a">>] is not a valid maximum length'],
  [{ "message-ttl": -1 }, "-1 is not a valid message TTL"],
  [{ expires: 0 }, "0 is not a valid queue expiry"],
  [{ "dead-letter-exchange": 5 }, "5 is not a valid dead letter exchange name"],
  [{ "alternate-exchange": true }, "true is not a valid alternate exchange name"],
  [{ "dead-letter-routing-key": { a: 1 } }, '#{<<"a">> => 1} is not a valid dead letter routing key'],
  [{ "queue-mode": "bogus" }, '<<"bogus">> is not a valid queue-mode value'],
  [{ overflow: "bogus" }, '<<"bogus">> is not a valid overflow value'],
  [{ "delivery-limit": -1 }, "-1 is not a valid delivery limit"],
  [{ "queue-version": 3 }, "3 is not a valid queue-version value"],
  [{ "queue-master-locator": "bogus" }, '<<"bogus">> invalid queue-master-locator value'],
  [{ "max-age": "0D" }, '<<"0D">> is not a valid max age'],
  // The first failing key in sorted order, whatever order the body has; bad values before unknown keys.
  [{ "message-ttl": "y", "max-length": "x" }, '<<"x">> is not a valid maximum length'],
  [{ overflow: "x", expires: "y" }, '<<"y">> is not a valid queue expiry'],
  [{ foo: 1, "max-length": "x" }, '<<"x">> is not a valid maximum length'],
  // The ha-* keys are checked together, after the others.
  [{ "ha-mode": "bogus", "alternate-exchange": 1 }, "1 is not a valid alternate exchange name"],
  [{ "ha-mode": "bogus" }, '<<"bogus">> is not a valid ha-mode value'],
  [{ "ha-params": 1 }, "ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown"],
  [{ "ha-mode": "exactly" }, 'ha-mode="exactly" takes an integer, none given'],
  [{ "ha-mode": "exactly", "ha-params": "x" }, 'ha-mode="exactly" takes an integer, <<"x">> given'],
  [{ "ha-mode": "nodes", "ha-params": [1] }, 'ha-mode="nodes" takes a list of strings, [1] was not a string'],
  [{ "ha-mode": "all", "ha-params": 1 }, 'ha-mode="all" does not take parameters'],
  [{ "ha-mode": "all", "ha-sync-mode": "x" }, 'ha-sync-mode must be "manual" or "automatic", got <<"x">>'],
  [{ "ha-mode": "all", "ha-sync-batch-size": 0 }, "ha-sync-batch-size takes an integer greater than 0, 0 given"],
];

test("a policy with an unknown key or a bad value is refused with RabbitMQ 3.10's 400 and text", async () => {
  for (const [definition, reason] of REFUSED) {
    const response = await api.put("/api/policies/%2F/p", { pattern: ".*", definition });
    assert.equal(response.status, 400, JSON.stringify(definition));
    assert.deepEqual(
      response.json,
      { error: "bad_request", reason: escaped(`Validation failed\n\n${reason}\n`) },
      JSON.stringify(definition),
    );
  }
  assert.deepEqual(await api.json("/api/policies"), []);
  // The broker still applies a valid policy afterwards, to a queue a client declares.
  assert.equal(
    (await api.put("/api/policies/%2F/p", { pattern: "^pv-", definition: { "max-length": 1 } })).status,
    201,
  );
  const connection = await amqplib.connect(warren.broker.url);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue("pv-q", { autoDelete: true });
    channel.sendToQueue("pv-q", Buffer.from("a"));
    channel.sendToQueue("pv-q", Buffer.from("b"));
    assert.equal((await channel.checkQueue("pv-q")).messageCount, 1);
  } finally {
    await connection.close();
  }
  await api.delete("/api/policies/%2F/p");
});

test("policy values RabbitMQ 3.10 accepts are accepted", async () => {
  const accepted = [
    { "ha-mode": "all" },
    { "ha-mode": "exactly", "ha-params": 2, "ha-sync-mode": "automatic" },
    { "ha-mode": "nodes", "ha-params": ["a"] },
    { "queue-mode": "lazy", "dead-letter-routing-key": "" },
    { "queue-master-locator": "min-masters", "queue-leader-locator": "balanced" },
    { "dead-letter-strategy": "at-least-once", overflow: "reject-publish-dlx", "queue-version": 2 },
    { "max-age": "1D", "stream-max-segment-size-bytes": 3000000000, "initial-cluster-size": 0 },
    { "message-ttl": 0, "max-length": 0, "delivery-limit": 0, "alternate-exchange": "" },
  ];
  for (const definition of accepted) {
    const response = await api.put("/api/policies/%2F/ok", { pattern: "^ok-", definition });
    assert.ok(
      [201, 204].includes(response.status),
      `${JSON.stringify(definition)}: ${response.status} ${response.text}`,
    );
    assert.deepEqual((await api.json<{ definition: unknown }>("/api/policies/%2F/ok")).definition, definition);
  }
  await api.delete("/api/policies/%2F/ok");
});

test("an operator policy with a bad value is refused with RabbitMQ's unescaped text", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ "max-length": "ten" }, '<<"ten">> is not a valid maximum length'],
    [{ "message-ttl": -5 }, "-5 is not a valid message TTL"],
    [{ expires: 0 }, "0 is not a valid queue expiry"],
    [{ "delivery-limit": "x" }, '<<"x">> is not a valid delivery limit'],
    [{ foo: 1 }, '[{<<"foo">>,1}] are not recognised policy settings'],
    [{ "max-length": 1, "ha-mode": "all" }, '[{<<"ha-mode">>,<<"all">>}] are not recognised policy settings'],
  ];
  for (const [definition, reason] of cases) {
    const response = await api.put("/api/operator-policies/%2F/op", { pattern: ".*", definition });
    assert.equal(response.status, 400, JSON.stringify(definition));
    assert.deepEqual(response.json, { error: "bad_request", reason: `Validation failed\n\n${reason}\n` });
  }
  assert.deepEqual(await api.json("/api/operator-policies"), []);
});

test("a definitions import with a bad policy value is refused and changes nothing", async () => {
  const response = await api.post("/api/definitions", {
    queues: [{ name: "imp-q", vhost: "/", durable: true, auto_delete: false, arguments: {} }],
    policies: [
      { vhost: "/", name: "bad", pattern: ".*", "apply-to": "all", definition: { "max-length": "x" }, priority: 0 },
    ],
  });
  assert.equal(response.status, 400);
  // RabbitMQ 3.10's answer to this file: escaped, and the policy named after the text.
  assert.deepEqual(response.json, {
    error: "bad_request",
    reason: 'Validation failed\n\n&lt;&lt;"x"&gt;&gt; is not a valid maximum length\n (//bad)',
  });
  assert.equal((await api.get("/api/queues/%2F/imp-q")).status, 404);
  assert.deepEqual(await api.json("/api/policies"), []);
});

test("a policy stored before the checks existed does not make later imports fail", async () => {
  // As recovered from an older data dir: the registry takes it without the API's checks.
  warren.broker.broker.core.policies.put({
    vhost: "/",
    name: "old",
    pattern: "^old-",
    applyTo: "queues",
    definition: { "max-lenght": 5 },
    priority: 0,
  });
  const response = await api.post("/api/definitions", {
    queues: [{ name: "after-old", vhost: "/", durable: true, auto_delete: false, arguments: {} }],
  });
  assert.equal(response.status, 204, response.text);
  assert.equal((await api.get("/api/queues/%2F/after-old")).status, 200);
  assert.deepEqual((await api.json<{ definition: unknown }>("/api/policies/%2F/old")).definition, { "max-lenght": 5 });
  await api.delete("/api/queues/%2F/after-old");
  await api.delete("/api/policies/%2F/old");
});
