/**
 * SASL PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd.
 * AMQPLAIN is an AMQP field table and is decoded by the AMQP adapter.
 */

export interface PlainCredentials {
  username: string;
  password: string;
}

const NUL = 0;

/**
 * Returns null for a malformed response (the caller answers as RabbitMQ
 * does: "response ... invalid"). Like rabbit_auth_mechanism_plain, a NUL
 * inside the password makes the response invalid rather than truncating it.
 *
 * The authzid is ignored. RabbitMQ is stricter here: it requires the
 * response to begin with NUL (an empty authzid) and rejects any other; no
 * common client sends one, and accepting it loses nothing.
 */
export function parsePlain(response: Buffer): PlainCredentials | null {
  const first = response.indexOf(NUL);
  if (first === -1) return null;
  const second = response.indexOf(NUL, first + 1);
  if (second === -1) return null;
  if (response.indexOf(NUL, second + 1) !== -1) return null;
  return {
    username: response.toString("utf8", first + 1, second),
    password: response.toString("utf8", second + 1),
  };
}

/** The inverse, for tests and clients: "\0username\0password". */
export function encodePlain(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, "utf8");
}
