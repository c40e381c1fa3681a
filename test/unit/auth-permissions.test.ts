import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPermission, validatePermissions, type Permissions } from "../../src/auth/permissions.js";

const perms = (configure: string, write: string, read: string): Permissions => ({ configure, write, read });

test("'.*' grants every resource", () => {
  const p = perms(".*", ".*", ".*");
  for (const kind of ["configure", "write", "read"] as const) {
    assert.equal(checkPermission(p, kind, "orders"), true);
    assert.equal(checkPermission(p, kind, "amq.gen-abc"), true);
  }
});

test("patterns match unanchored, like Erlang's re:run", () => {
  const p = perms("ord", "^ord", "ers$");
  assert.equal(checkPermission(p, "configure", "my-orders"), true);
  assert.equal(checkPermission(p, "write", "my-orders"), false);
  assert.equal(checkPermission(p, "write", "orders"), true);
  assert.equal(checkPermission(p, "read", "my-orders"), true);
  assert.equal(checkPermission(p, "read", "orders.dlq"), false);
});

test("explicit anchors: '^(amq\\.gen.*|amq\\.default)$' (RabbitMQ docs example)", () => {
  const p = perms("^(amq\\.gen.*|amq\\.default)$", "", "");
  assert.equal(checkPermission(p, "configure", "amq.gen-JzTY20BRgKO-HjmUJj0wLg"), true);
  assert.equal(checkPermission(p, "configure", "amq.default"), true);
  assert.equal(checkPermission(p, "configure", "amq.direct"), false);
  assert.equal(checkPermission(p, "configure", "xamq.gen"), false);
});

test("an empty permission string grants nothing", () => {
  const p = perms("", "", "");
  for (const name of ["a", "amq.default", ".*", ""]) {
    assert.equal(checkPermission(p, "configure", name), false);
    assert.equal(checkPermission(p, "write", name), false);
    assert.equal(checkPermission(p, "read", name), false);
  }
});

test("the default exchange '' is checked as 'amq.default'", () => {
  assert.equal(checkPermission(perms("", "^amq\\.default$", ""), "write", ""), true);
  assert.equal(checkPermission(perms("", "^$", ""), "write", ""), false);
  assert.equal(checkPermission(perms("", "^orders$", ""), "write", ""), false);
});

test("no permission entry means no access", () => {
  assert.equal(checkPermission(undefined, "read", "orders"), false);
});

test("'^$' (RabbitMQ's deny-all idiom) denies every named resource", () => {
  assert.equal(checkPermission(perms("^$", "^$", "^$"), "read", "orders"), false);
});

test("an invalid pattern denies instead of throwing, and cannot be stored", () => {
  assert.equal(checkPermission(perms("(", ".*", ".*"), "configure", "x"), false);
  assert.throws(() => validatePermissions(perms(".*", "[", ".*")), {
    code: "WARREN_ERR_INVALID_PERMISSION",
    message: "invalid regular expression '[' for write permission",
  });
  validatePermissions(perms(".*", "", "^amq\\.gen.*"));
});

test("repeated checks are stable (no stateful global regex)", () => {
  const p = perms("a", "a", "a");
  for (let i = 0; i < 5; i++) assert.equal(checkPermission(p, "read", "a"), true);
});
