/**
 * Issue 11, ReDoS: `(a+)+$` against a name of 30 "a" and a "!" took V8's
 * backtracking engine 96 s, and every protocol stalled with it (one event
 * loop). Each place a user's pattern runs must answer, and an AMQP client
 * must be served while it does. No timing is asserted: with the old engine
 * these tests do not finish within the file's timeout.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";
import { Api, type Item } from "./api-client.js";

const EVIL_PATTERN = "(a+)+$";
const EVIL_NAME = `${"a".repeat(30)}!`;
const TIMEOUT = { timeout: 60_000 };

const warren = useBroker({}, async () => {
  assert.equal((await api.put(`/api/queues/%2F/${EVIL_NAME}`, {})).status, 201);
  assert.equal((await api.put("/api/users/limited", { password: "pw", tags: "" })).status, 201);
});
const api = Api.lazy(warren);

/** An AMQP round trip on a fresh connection: the event loop is not held by the pattern. */
async function amqpRoundTrip(broker: TestBroker): Promise<string> {
  const connection = await amqplib.connect(broker.url);
  try {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("served"));
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message) return message.content.toString();
    }
  } finally {
    await connection.close();
  }
}

test(
  "the API's regex name filter answers for a catastrophic pattern while AMQP clients are served",
  TIMEOUT,
  async () => {
    const [listing, served] = await Promise.all([
      api.get(`/api/queues?page=1&name=${encodeURIComponent(EVIL_PATTERN)}&use_regex=true&columns=name`),
      amqpRoundTrip(warren.broker),
    ]);
    assert.equal(listing.status, 200);
    const body = listing.json as Item;
    assert.deepEqual([body["filtered_count"], body["items"]], [0, []]);
    assert.equal(served, "served");
    // The same filter still finds what it should.
    const found = await api.json<Item>(
      `/api/queues?page=1&name=${encodeURIComponent("^(a+)+!$")}&use_regex=true&columns=name`,
    );
    assert.deepEqual(found["items"], [{ name: EVIL_NAME }]);
  },
);

test(
  "a policy with a catastrophic pattern is stored, matches at declare time, and declares still answer",
  TIMEOUT,
  async () => {
    const put = await api.put("/api/policies/%2F/evil", {
      pattern: EVIL_PATTERN,
      definition: { "max-length": 3 },
      "apply-to": "queues",
    });
    assert.equal(put.status, 201);
    const connection = await amqplib.connect(warren.broker.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(`${EVIL_NAME}-2`, { autoDelete: true });
      await channel.assertQueue("aaaa", { autoDelete: true });
      assert.equal(await amqpRoundTrip(warren.broker), "served");
      const matched = await api.json<Item>("/api/queues/%2F/aaaa");
      assert.deepEqual([matched["policy"], matched["effective_policy_definition"]], ["evil", { "max-length": 3 }]);
      const unmatched = await api.json<Item>(`/api/queues/%2F/${encodeURIComponent(`${EVIL_NAME}-2`)}`);
      assert.equal(unmatched["policy"], null);
    } finally {
      await connection.close();
      await api.delete("/api/policies/%2F/evil");
    }
  },
);

test(
  "an operator policy with a catastrophic pattern is matched at declare time without stalling",
  TIMEOUT,
  async () => {
    const core = warren.broker.broker.core;
    core.operatorPolicies.put({
      vhost: "/",
      name: "op-evil",
      pattern: EVIL_PATTERN,
      applyTo: "queues",
      definition: { "max-length": 1 },
      priority: 0,
    });
    const connection = await amqplib.connect(warren.broker.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(`${EVIL_NAME}-3`, { autoDelete: true });
      const { queue } = await channel.assertQueue("aaa", { autoDelete: true });
      // The operator policy's max-length 1 applies to "aaa" (the pattern matches it).
      channel.sendToQueue(queue, Buffer.from("1"));
      channel.sendToQueue(queue, Buffer.from("2"));
      const { messageCount } = await channel.checkQueue(queue);
      assert.equal(messageCount, 1);
    } finally {
      await connection.close();
      core.operatorPolicies.delete("/", "op-evil");
    }
  },
);

test("a permission pattern that would backtrack catastrophically is checked in linear time", TIMEOUT, async () => {
  assert.equal(
    (await api.put("/api/permissions/%2F/limited", { configure: EVIL_PATTERN, write: ".*", read: ".*" })).status,
    201,
  );
  const connection = await amqplib.connect(warren.broker.urlFor("limited", "pw"));
  try {
    const refused = await connection.createChannel();
    refused.on("error", () => undefined);
    await rejectsWithClose(
      refused.assertQueue(`${EVIL_NAME}-4`),
      403,
      `ACCESS_REFUSED - access to queue '${EVIL_NAME}-4' in vhost '/' refused for user 'limited'`,
    );
    const allowed = await connection.createChannel();
    await allowed.assertQueue("aaaaa", { autoDelete: true });
    assert.equal(await amqpRoundTrip(warren.broker), "served");
  } finally {
    await connection.close();
  }
});

test("patterns RE2 cannot run in linear time (backreferences, lookarounds) are invalid, with the same errors as before", async () => {
  for (const pattern of ["(a)\\1", "a(?=b)", "(unclosed"]) {
    const listing = await api.get(`/api/queues?page=1&name=${encodeURIComponent(pattern)}&use_regex=true`);
    assert.deepEqual(
      [listing.status, listing.json],
      [400, { error: "bad_request", reason: `invalid regular expression '${pattern}'` }],
      pattern,
    );
    const policy = await api.put("/api/policies/%2F/bad", { pattern, definition: { "max-length": 1 } });
    assert.deepEqual(
      [policy.status, policy.json],
      [400, { error: "bad_request", reason: `Validation failed\n\n${pattern} is not a valid regular expression` }],
      pattern,
    );
    const permission = await api.put("/api/permissions/%2F/limited", { configure: pattern, write: ".*", read: ".*" });
    assert.deepEqual(
      [permission.status, permission.json],
      [400, { error: "bad_request", reason: `invalid regular expression '${pattern}' for configure permission` }],
      pattern,
    );
  }
  const tooLong = "a".repeat(5000);
  const policy = await api.put("/api/policies/%2F/long", { pattern: tooLong, definition: { "max-length": 1 } });
  assert.equal(policy.status, 400);
  assert.equal(await amqpRoundTrip(warren.broker), "served");
});
