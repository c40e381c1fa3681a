import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkPassword,
  hashPassword,
  hashPasswordWithSalt,
  LEGACY_HASHING_ALGORITHM,
} from "../../src/auth/password.js";
import { WarrenError } from "../../src/errors.js";

// Published vectors, computed as in https://www.rabbitmq.com/docs/passwords#computing-password-hash:
// base64(salt ++ H(salt ++ utf8(password))).
const SHA256_VECTOR = {
  salt: "908DC60A",
  password: "test12",
  hash: "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR",
};
const MD5_VECTOR = { salt: "CAD5089B", password: "simon", hash: "ytUIm8s3AnKsXQjptplKFytfVxI=" };

test("sha256 hash of 'test12' with salt 908DC60A is RabbitMQ's documented value", () => {
  const salt = Buffer.from(SHA256_VECTOR.salt, "hex");
  assert.equal(hashPasswordWithSalt(SHA256_VECTOR.password, salt), SHA256_VECTOR.hash);
  assert.equal(checkPassword("test12", SHA256_VECTOR.hash, "rabbit_password_hashing_sha256"), true);
  assert.equal(checkPassword("test13", SHA256_VECTOR.hash, "rabbit_password_hashing_sha256"), false);
});

test("md5 (pre-3.6 legacy) hash of 'simon' with salt CAD5089B is the rabbitmq-discuss value", () => {
  const salt = Buffer.from(MD5_VECTOR.salt, "hex");
  assert.equal(hashPasswordWithSalt("simon", salt, "rabbit_password_hashing_md5"), MD5_VECTOR.hash);
  assert.equal(checkPassword("simon", MD5_VECTOR.hash, LEGACY_HASHING_ALGORITHM), true);
});

test("sha512 hashes are 4 salt bytes plus a 64-byte digest and verify", () => {
  const hash = hashPassword("s3cret", "rabbit_password_hashing_sha512");
  assert.equal(Buffer.from(hash, "base64").length, 4 + 64);
  assert.equal(checkPassword("s3cret", hash, "rabbit_password_hashing_sha512"), true);
  assert.equal(checkPassword("s3cret", hash, "rabbit_password_hashing_sha256"), false);
});

test("hashPassword defaults to sha256 with a fresh random salt each time", () => {
  const a = hashPassword("guest");
  const b = hashPassword("guest");
  assert.notEqual(a, b);
  assert.equal(Buffer.from(a, "base64").length, 4 + 32);
  assert.equal(checkPassword("guest", a), true);
  assert.equal(checkPassword("guest", b), true);
});

test("non-ASCII passwords are hashed as UTF-8", () => {
  const salt = Buffer.from("01020304", "hex");
  const hash = hashPasswordWithSalt("pässwörd", salt);
  assert.equal(checkPassword("pässwörd", hash), true);
  assert.equal(checkPassword("passwort", hash), false);
});

test("an empty or truncated hash never matches", () => {
  assert.equal(checkPassword("", ""), false);
  assert.equal(checkPassword("x", Buffer.from("abcd").toString("base64")), false);
  assert.equal(checkPassword("test12", SHA256_VECTOR.hash.slice(0, 20)), false);
});

test("an unknown algorithm is an error, not a mismatch", () => {
  assert.throws(
    () => checkPassword("x", SHA256_VECTOR.hash, "rabbit_password_hashing_sha1"),
    (err: unknown) => err instanceof WarrenError && err.code === "WARREN_ERR_UNKNOWN_HASHING_ALGORITHM",
  );
});
