import { test } from "node:test";
import assert from "node:assert/strict";
import { encodePlain, parsePlain } from "../../src/auth/sasl.js";

test("PLAIN: \\0user\\0pass", () => {
  assert.deepEqual(parsePlain(Buffer.from("\0guest\0guest")), { username: "guest", password: "guest" });
});

test("PLAIN: the authzid is ignored", () => {
  assert.deepEqual(parsePlain(Buffer.from("admin\0bob\0pw")), { username: "bob", password: "pw" });
});

test("PLAIN: empty username and password parse (authentication rejects them later)", () => {
  assert.deepEqual(parsePlain(Buffer.from("\0\0")), { username: "", password: "" });
});

test("PLAIN: UTF-8 credentials round-trip", () => {
  assert.deepEqual(parsePlain(encodePlain("jürgen", "pässwört")), { username: "jürgen", password: "pässwört" });
});

test("PLAIN: malformed responses are null", () => {
  assert.equal(parsePlain(Buffer.alloc(0)), null);
  assert.equal(parsePlain(Buffer.from("guest")), null);
  assert.equal(parsePlain(Buffer.from("\0guest")), null);
  // rabbit_auth_mechanism_plain rejects a NUL inside the password.
  assert.equal(parsePlain(Buffer.from("\0guest\0gu\0est")), null);
});
