import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreError, limitReached, type CoreErrorKind } from "../../src/core/errors.js";
import { connackV3, RC, reasonForCoreError } from "../../src/mqtt/reason-codes.js";

const KINDS: CoreErrorKind[] = [
  "not-found",
  "precondition-failed",
  "access-refused",
  "resource-locked",
  "not-allowed",
  "command-invalid",
  "not-implemented",
  "resource-error",
  "internal-error",
];

test("only permission errors become 0x87 Not authorized; an internal error never does", () => {
  const authorized = KINDS.filter((kind) => reasonForCoreError(new CoreError(kind, "x")) === RC.NOT_AUTHORIZED);
  assert.deepEqual(authorized.sort(), ["access-refused", "not-allowed"]);
  assert.equal(reasonForCoreError(new CoreError("internal-error", "x")), RC.UNSPECIFIED_ERROR);
});

test("every core error kind is an MQTT 5 error reason (>= 0x80), never success", () => {
  for (const kind of KINDS) assert.ok(reasonForCoreError(new CoreError(kind, "x")) >= 0x80, kind);
});

test("a configured limit is 0x97 Quota exceeded whatever its AMQP kind; 3.1.1 CONNACK says server unavailable", () => {
  const error = limitReached("precondition-failed", "max-queues", "queue limit in vhost '/' (1) is reached");
  assert.equal(reasonForCoreError(error), RC.QUOTA_EXCEEDED);
  assert.equal(connackV3(RC.QUOTA_EXCEEDED), 3);
  assert.equal(connackV3(reasonForCoreError(new CoreError("not-allowed", "vhost refused"))), 5);
});
