/**
 * RabbitMQ's password hashing (rabbit_password + rabbit_password_hashing_*):
 *   hash = base64( salt ++ H(salt ++ utf8(password)) ), salt = 4 random bytes.
 * Hashes are therefore interchangeable with RabbitMQ's definitions.json
 * (`password_hash` + `hashing_algorithm`), in both directions.
 * See https://www.rabbitmq.com/docs/passwords#computing-password-hash
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ErrorCodes, WarrenError } from "../errors.js";

export const HASHING_ALGORITHMS = {
  rabbit_password_hashing_sha256: "sha256",
  rabbit_password_hashing_sha512: "sha512",
  rabbit_password_hashing_md5: "md5",
} as const;

export type HashingAlgorithm = keyof typeof HASHING_ALGORITHMS;

/** RabbitMQ's default since 3.6.0. */
export const DEFAULT_HASHING_ALGORITHM: HashingAlgorithm = "rabbit_password_hashing_sha256";

/**
 * Users imported without a `hashing_algorithm` predate RabbitMQ 3.6.0 and were
 * hashed with MD5 (rabbit_auth_backend_internal:hashing_module_for_user/1).
 */
export const LEGACY_HASHING_ALGORITHM: HashingAlgorithm = "rabbit_password_hashing_md5";

const SALT_LENGTH = 4;

export function isHashingAlgorithm(name: string): name is HashingAlgorithm {
  return Object.hasOwn(HASHING_ALGORITHMS, name);
}

function digestName(algorithm: string): string {
  if (!isHashingAlgorithm(algorithm)) {
    throw new WarrenError(
      ErrorCodes.UNKNOWN_HASHING_ALGORITHM,
      `unknown password hashing algorithm '${algorithm}'; expected one of ${Object.keys(HASHING_ALGORITHMS).join(", ")}`,
    );
  }
  return HASHING_ALGORITHMS[algorithm];
}

function saltedDigest(digest: string, salt: Buffer, password: string): Buffer {
  return createHash(digest).update(salt).update(password, "utf8").digest();
}

/** Deterministic form, for tests and for tools that must reproduce a known hash. */
export function hashPasswordWithSalt(
  password: string,
  salt: Buffer,
  algorithm: string = DEFAULT_HASHING_ALGORITHM,
): string {
  if (salt.length !== SALT_LENGTH) {
    throw new RangeError(`salt must be ${SALT_LENGTH} bytes, got ${salt.length}`);
  }
  const digest = digestName(algorithm);
  return Buffer.concat([salt, saltedDigest(digest, salt, password)]).toString("base64");
}

export function hashPassword(password: string, algorithm: string = DEFAULT_HASHING_ALGORITHM): string {
  return hashPasswordWithSalt(password, randomBytes(SALT_LENGTH), algorithm);
}

/**
 * True when `password` produces `passwordHash`. A hash that is not base64 of
 * at least salt + one byte (e.g. the empty hash RabbitMQ stores for a user
 * with no password) never matches, as in RabbitMQ. Unknown algorithms throw:
 * that is a data error, not a wrong password.
 */
export function checkPassword(
  password: string,
  passwordHash: string,
  algorithm: string = DEFAULT_HASHING_ALGORITHM,
): boolean {
  const digest = digestName(algorithm);
  const decoded = Buffer.from(passwordHash, "base64");
  if (decoded.length <= SALT_LENGTH) return false;
  const salt = decoded.subarray(0, SALT_LENGTH);
  const expected = decoded.subarray(SALT_LENGTH);
  const actual = saltedDigest(digest, salt, password);
  // timingSafeEqual throws on length mismatch; a length mismatch leaks only
  // the algorithm's output size, which is public.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
