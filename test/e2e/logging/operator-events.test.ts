import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "../management/api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);
const entries = (msg: string): Array<Record<string, unknown>> =>
  warren.broker.logs.filter((e) => (e as { msg?: string }).msg === msg);

test("connections are logged at info when accepted and closed, with address, user, vhost, protocol and client name", async () => {
  const connection = await amqplib.connect(warren.broker.url, {
    clientProperties: { connection_name: "billing-worker" },
  });
  const accepted = await waitFor(async () =>
    entries("connection accepted").find((e) => e["name"] === "billing-worker"),
  );
  assert.equal(accepted["level"], 30);
  assert.equal(accepted["protocol"], "amqp");
  assert.equal(accepted["user"], "guest");
  assert.equal(accepted["vhost"], "/");
  assert.match(String(accepted["client"]), /^127\.0\.0\.1:\d+$/);
  await connection.close();
  const closed = await waitFor(async () => entries("connection closed").find((e) => e["name"] === "billing-worker"));
  assert.equal(closed["connection"], accepted["connection"]);
  assert.equal(typeof closed["durationMs"], "number");
});

// The log line itself is protocol-hardening's failed-login throttle's (src/auth/failed-logins.ts).
test("a failed HTTP API login answers 401 and is logged with the user name", async () => {
  const response = await api.as("guest", "wrong").get("/api/overview");
  assert.equal(response.status, 401);
  assert.deepEqual(response.json, { error: "not_authorized", reason: "Login failed" });
  const entry = await waitFor(async () =>
    entries("login failed").find((e) => e["user"] === "guest" && e["protocol"] === "http"),
  );
  assert.equal(entry["level"], 40);
  assert.equal(entry["reason"], "user 'guest' - invalid credentials");
  assert.equal((await api.get("/api/overview")).status, 200);
});

test("a definitions import is logged with what it brought", async () => {
  const response = await api.post("/api/definitions", {
    queues: [{ name: "imported-q", vhost: "/", durable: true, auto_delete: false, arguments: {} }],
  });
  assert.equal(response.status, 204);
  const entry = await waitFor(async () => entries("definitions imported").at(-1));
  assert.equal(entry["queues"], 1);
  assert.equal(entry["user"], "guest");
});
