/**
 * Issue 11: binding every interface stays the default (as RabbitMQ), but a
 * warning is logged at start when guest is the only administrator and the
 * HTTP API listens beyond loopback.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TestBroker } from "../../helpers/broker.js";

const WARNING = /the HTTP API listens beyond loopback and 'guest' is the only administrator/;

async function warningsOf(options: Parameters<typeof TestBroker.start>[0]): Promise<string[]> {
  const broker = await TestBroker.start(options);
  try {
    return broker.logs.filter((entry) => entry.level === 40).map((entry) => entry.msg);
  } finally {
    await broker.stop();
  }
}

test("listening on every interface with guest as the only administrator logs a warning", async () => {
  const warnings = await warningsOf({ host: "0.0.0.0", ports: { http: 0 } });
  assert.equal(warnings.filter((msg) => WARNING.test(msg)).length, 1);
});

test("no warning on loopback, nor when another administrator exists", async () => {
  assert.deepEqual(
    (await warningsOf({ host: "127.0.0.1", ports: { http: 0 } })).filter((msg) => WARNING.test(msg)),
    [],
  );
  const withAdmin = await warningsOf({
    host: "0.0.0.0",
    ports: { http: 0 },
    users: [{ name: "ops", password: "s3cret", tags: ["administrator"] }],
  });
  assert.deepEqual(
    withAdmin.filter((msg) => WARNING.test(msg)),
    [],
  );
});
