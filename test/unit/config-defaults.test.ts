import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS } from "../../src/config/defaults.js";

test("embedded defaults stay private and ephemeral", () => {
  assert.equal(DEFAULTS.embeddedHost, "127.0.0.1");
  assert.equal(DEFAULTS.embeddedAmqpPort, 0);
});

test("limits match RabbitMQ's defaults", () => {
  assert.equal(DEFAULTS.frameMax, 131072);
  assert.equal(DEFAULTS.frameMin, 4096);
  assert.equal(DEFAULTS.channelMax, 2047);
  assert.equal(DEFAULTS.heartbeat, 60);
  assert.equal(DEFAULTS.maxMessageSize, 128 * 1024 * 1024);
  assert.ok(DEFAULTS.maxMessageSize <= DEFAULTS.maxMessageSizeCeiling);
});
