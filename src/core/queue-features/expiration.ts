import { preconditionFailed } from "../errors.js";

/**
 * The per-message TTL a publisher set in the `expiration` property, in ms.
 * RabbitMQ (rabbit_basic:parse_expiration) accepts a decimal integer
 * string; anything else closes the channel with 406, e.g.
 * "invalid expiration 'abc': no_integer", "invalid expiration '-1': {value_negative,-1}".
 */
export function parseExpiration(expiration: string | undefined): number | null {
  if (expiration === undefined) return null;
  if (!/^[+-]?\d+$/.test(expiration)) throw preconditionFailed(`invalid expiration '${expiration}': no_integer`);
  const ttl = Number.parseInt(expiration, 10);
  if (ttl < 0) throw preconditionFailed(`invalid expiration '${expiration}': {value_negative,${ttl}}`);
  return ttl;
}

/** The expiration of a message that must not fail (already validated on publish, or from another protocol). */
export function expirationOrNull(expiration: string | undefined): number | null {
  try {
    return parseExpiration(expiration);
  } catch {
    return null;
  }
}
