import { test } from "node:test";
import assert from "node:assert/strict";
import { isLoopbackAddress } from "../../src/auth/loopback.js";

test("loopback addresses (rabbit_net:is_loopback/1)", () => {
  for (const a of [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "[::1]",
    "::1%lo",
  ]) {
    assert.equal(isLoopbackAddress(a), true, a);
  }
});

test("everything else, including names and garbage, is not loopback", () => {
  for (const a of [
    "128.0.0.1",
    "0.0.0.0",
    "::",
    "::2",
    "::ffff:192.168.0.1",
    "10.127.0.1",
    "localhost",
    "",
    "not an ip",
  ]) {
    assert.equal(isLoopbackAddress(a), false, a);
  }
});
