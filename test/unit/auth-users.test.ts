import { test } from "node:test";
import assert from "node:assert/strict";
import { UserRegistry, type UserRegistryChange } from "../../src/auth/users.js";
import { seedDefaultUser } from "../../src/auth/seed.js";
import { hashPasswordWithSalt } from "../../src/auth/password.js";

const LOCAL = { address: "127.0.0.1" };
const REMOTE = { address: "192.0.2.10" };

test("a user authenticates with the right password only", () => {
  const users = new UserRegistry();
  users.addUser("alice", "wonderland", ["management"]);
  const ok = users.authenticate("alice", "wonderland", REMOTE);
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.ok && ok.user.tags, ["management"]);
  assert.deepEqual(users.authenticate("alice", "nope", REMOTE), {
    ok: false,
    reason: "user 'alice' - invalid credentials",
  });
});

test("an unknown user gets the same answer as a wrong password", () => {
  const users = new UserRegistry();
  assert.deepEqual(users.authenticate("mallory", "x", LOCAL), {
    ok: false,
    reason: "user 'mallory' - invalid credentials",
  });
});

test("a blank password is refused before any lookup, as RabbitMQ's internal backend does", () => {
  const users = new UserRegistry();
  users.addUser("alice", "wonderland");
  const r = users.authenticate("alice", "", LOCAL);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /^user 'alice' attempted to log in with a blank password/);
});

test("loopback_users: guest may log in from 127.0.0.0/8, ::1 and ::ffff:127.x only", () => {
  const users = new UserRegistry();
  seedDefaultUser(users);
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(users.authenticate("guest", "guest", { address }).ok, true, address);
  }
  for (const address of ["192.0.2.10", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "2001:db8::1", "", "localhost"]) {
    assert.deepEqual(
      users.authenticate("guest", "guest", { address }),
      { ok: false, reason: "user 'guest' can only connect via localhost" },
      address,
    );
  }
});

test("loopback_users: a remote guest with a wrong password sees 'invalid credentials'", () => {
  const users = new UserRegistry();
  seedDefaultUser(users);
  assert.deepEqual(users.authenticate("guest", "wrong", REMOTE), {
    ok: false,
    reason: "user 'guest' - invalid credentials",
  });
});

test("loopback_users is configurable: [] lets guest in from anywhere", () => {
  const users = new UserRegistry({ loopbackUsers: [] });
  seedDefaultUser(users);
  assert.equal(users.authenticate("guest", "guest", REMOTE).ok, true);
  const strict = new UserRegistry({ loopbackUsers: ["ops"] });
  strict.addUser("ops", "pw");
  assert.equal(strict.authenticate("ops", "pw", REMOTE).ok, false);
});

test("seedDefaultUser creates guest/guest, administrator, full permissions on '/'", () => {
  const users = new UserRegistry();
  seedDefaultUser(users);
  assert.deepEqual(users.getUser("guest")?.tags, ["administrator"]);
  assert.deepEqual(users.getPermissions("guest", "/"), { configure: ".*", write: ".*", read: ".*" });
  assert.equal(users.canAccessVhost("guest", "/"), true);
  assert.equal(users.canAccessVhost("guest", "other"), false);
});

test("a RabbitMQ-exported hash imports and authenticates", () => {
  const users = new UserRegistry({ loopbackUsers: [] });
  users.addUserWithHash("bob", "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "rabbit_password_hashing_sha256");
  assert.equal(users.authenticate("bob", "test12", REMOTE).ok, true);
  users.addUserWithHash(
    "old",
    hashPasswordWithSalt("pw", Buffer.from("aabbccdd", "hex"), "rabbit_password_hashing_md5"),
    "rabbit_password_hashing_md5",
  );
  assert.equal(users.authenticate("old", "pw", REMOTE).ok, true);
  assert.throws(() => users.addUserWithHash("x", "", "bcrypt"), { code: "WARREN_ERR_UNKNOWN_HASHING_ALGORITHM" });
});

test("a user with an empty hash (no password) cannot log in with any password", () => {
  const users = new UserRegistry({ loopbackUsers: [] });
  users.addUserWithHash("cert-only", "");
  assert.equal(users.authenticate("cert-only", "anything", REMOTE).ok, false);
});

test("addUser refuses a duplicate; changePassword and setTags update", () => {
  const users = new UserRegistry();
  users.addUser("alice", "one");
  assert.throws(() => users.addUser("alice", "two"), { code: "WARREN_ERR_USER_EXISTS" });
  users.changePassword("alice", "two");
  assert.equal(users.authenticate("alice", "one", LOCAL).ok, false);
  assert.equal(users.authenticate("alice", "two", LOCAL).ok, true);
  users.setTags("alice", ["monitoring"]);
  assert.deepEqual(users.getUser("alice")?.tags, ["monitoring"]);
  assert.throws(() => users.changePassword("nobody", "x"), { code: "WARREN_ERR_NO_SUCH_USER" });
  assert.throws(() => users.setTags("nobody", []), { code: "WARREN_ERR_NO_SUCH_USER" });
});

test("returned users are copies: mutating them does not change the registry", () => {
  const users = new UserRegistry();
  users.addUser("alice", "pw", ["a"]);
  const u = users.getUser("alice");
  u?.tags.push("administrator");
  assert.deepEqual(users.getUser("alice")?.tags, ["a"]);
});

test("permissions: set, get, list, clear; invalid regex and unknown user refused", () => {
  const users = new UserRegistry();
  users.addUser("alice", "pw");
  users.addUser("bob", "pw");
  users.setPermissions("alice", "/", { configure: "^alice-.*", write: ".*", read: ".*" });
  users.setPermissions("alice", "dev", { configure: "", write: "", read: ".*" });
  users.setPermissions("bob", "dev", { configure: ".*", write: ".*", read: ".*" });
  assert.deepEqual(users.getPermissions("alice", "dev"), { configure: "", write: "", read: ".*" });
  assert.equal(users.listPermissions().length, 3);
  assert.deepEqual(
    users
      .listPermissions({ vhost: "dev" })
      .map((p) => p.user)
      .sort(),
    ["alice", "bob"],
  );
  assert.deepEqual(users.listPermissions({ user: "alice", vhost: "/" }), [
    { user: "alice", vhost: "/", configure: "^alice-.*", write: ".*", read: ".*" },
  ]);
  assert.equal(users.clearPermissions("alice", "/"), true);
  assert.equal(users.clearPermissions("alice", "/"), false);
  assert.equal(users.getPermissions("alice", "/"), undefined);
  assert.throws(() => users.setPermissions("alice", "/", { configure: "(", write: "", read: "" }), {
    code: "WARREN_ERR_INVALID_PERMISSION",
  });
  assert.throws(() => users.setPermissions("carol", "/", { configure: "", write: "", read: "" }), {
    code: "WARREN_ERR_NO_SUCH_USER",
  });
});

test("deleting a vhost's permissions and deleting a user cascade", () => {
  const users = new UserRegistry();
  users.addUser("alice", "pw");
  users.addUser("bob", "pw");
  const all = { configure: ".*", write: ".*", read: ".*" };
  users.setPermissions("alice", "dev", all);
  users.setPermissions("bob", "dev", all);
  users.setPermissions("bob", "/", all);
  assert.equal(users.deleteVhostPermissions("dev"), 2);
  assert.equal(users.canAccessVhost("alice", "dev"), false);
  assert.equal(users.deleteUser("bob"), true);
  assert.equal(users.deleteUser("bob"), false);
  assert.equal(users.getUser("bob"), undefined);
  assert.deepEqual(users.listPermissions(), []);
  users.addUser("bob", "pw");
  assert.equal(users.canAccessVhost("bob", "/"), false, "a re-created user does not inherit permissions");
});

test("onChange reports every mutation in order, and can be unsubscribed", () => {
  const users = new UserRegistry();
  const seen: string[] = [];
  const off = users.onChange((c: UserRegistryChange) => {
    seen.push(
      c.type === "user-put"
        ? `put ${c.user.name}`
        : c.type === "user-deleted"
          ? `del ${c.name}`
          : `${c.type} ${c.user} ${c.vhost}`,
    );
  });
  users.addUser("alice", "pw");
  users.setPermissions("alice", "/", { configure: ".*", write: ".*", read: ".*" });
  users.setTags("alice", ["administrator"]);
  users.deleteUser("alice");
  off();
  users.addUser("bob", "pw");
  assert.deepEqual(seen, [
    "put alice",
    "permissions-set alice /",
    "put alice",
    "permissions-cleared alice /",
    "del alice",
  ]);
});
