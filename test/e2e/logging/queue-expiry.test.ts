import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "../management/api-client.js";

// A queue deleted because it went unused for its expires time is logged at info, naming it and what set the time.
const warren = useBroker();
const api = Api.lazy(warren);
const expiryLines = (): Array<Record<string, unknown>> =>
  warren.broker.logs.filter((e) => e.msg === "queue deleted by expiry");

test("a queue deleted by its x-expires argument is logged at info with its name, vhost and expires time", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("expiring-by-arg", { arguments: { "x-expires": 200 } });
  await connection.close();
  const line = await waitFor(async () => expiryLines().find((e) => e["queue"] === "expiring-by-arg"), 10_000);
  assert.deepEqual(
    [line["level"], line["module"], line["vhost"], line["expiresMs"], line["source"]],
    [30, "queue", "/", 200, "x-expires"],
  );
  assert.equal((await api.get("/api/queues/%2F/expiring-by-arg")).status, 404);
});

test("a queue deleted by a policy's expires says so; a queue in use is neither deleted nor logged", async () => {
  assert.equal(
    (
      await api.put("/api/policies/%2F/expiry-pol", {
        pattern: "^by-policy-",
        definition: { expires: 200 },
        "apply-to": "queues",
      })
    ).status,
    201,
  );
  await api.put("/api/queues/%2F/by-policy-idle", { durable: true });
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("by-policy-used");
  await channel.consume("by-policy-used", () => {});
  const line = await waitFor(async () => expiryLines().find((e) => e["queue"] === "by-policy-idle"), 10_000);
  assert.deepEqual([line["source"], line["expiresMs"]], ["policy", 200]);
  // The consumed queue outlived the idle one's expiry, and nothing was logged for it.
  assert.equal((await api.get("/api/queues/%2F/by-policy-used")).status, 200);
  assert.equal(
    expiryLines().some((e) => e["queue"] === "by-policy-used"),
    false,
  );
  await connection.close();
  await api.delete("/api/policies/%2F/expiry-pol");
  await api.delete("/api/queues/%2F/by-policy-used");
});
