/**
 * Config and internal errors with stable `WARREN_ERR_*` codes, so that callers
 * (the CLI, an embedding application, tests) branch on `code`, never on text.
 * Protocol errors (AMQP reply codes, MQTT reason codes, STOMP ERROR frames)
 * live in each adapter's own catalog, not here.
 */

export const ErrorCodes = {
  /** A listener could not bind because its port is taken. */
  PORT_IN_USE: "WARREN_ERR_PORT_IN_USE",
  /** A listener could not bind for another reason (EACCES, EADDRNOTAVAIL …). */
  LISTEN_FAILED: "WARREN_ERR_LISTEN_FAILED",
  /** A flag, environment variable or option has an invalid value or is unknown. */
  INVALID_CONFIG: "WARREN_ERR_INVALID_CONFIG",
  /** A user/permission operation referred to a user that does not exist. */
  NO_SUCH_USER: "WARREN_ERR_NO_SUCH_USER",
  /** addUser for a name that is already taken. */
  USER_EXISTS: "WARREN_ERR_USER_EXISTS",
  /** A permission pattern is not a valid regular expression. */
  INVALID_PERMISSION: "WARREN_ERR_INVALID_PERMISSION",
  /** A password hashing algorithm Warren does not know. */
  UNKNOWN_HASHING_ALGORITHM: "WARREN_ERR_UNKNOWN_HASHING_ALGORITHM",
  /** The data directory cannot be used (unreadable, corrupt beyond repair …). */
  STORAGE: "WARREN_ERR_STORAGE",
  /** A TLS certificate, key or CA cannot be read or used (a wrong passphrase, a key that does not match). */
  TLS_CONFIG: "WARREN_ERR_TLS",
  /** Another live process holds the data directory's lock file (DESIGN.md §4: one owner at a time). */
  DATA_DIR_LOCKED: "WARREN_ERR_DATA_DIR_LOCKED",
  /** startBroker/stop called in the wrong state. */
  INVALID_STATE: "WARREN_ERR_INVALID_STATE",
  /** The NATS servers of --cluster-nats cannot be reached or refuse the login. */
  CLUSTER: "WARREN_ERR_CLUSTER",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class WarrenError extends Error {
  readonly code: string;

  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WarrenError";
    this.code = code;
  }
}

export function isWarrenError(err: unknown, code?: string): err is WarrenError {
  return err instanceof WarrenError && (code === undefined || err.code === code);
}

/**
 * The one message a user sees when a port is taken, naming both ways to
 * change it, e.g. "AMQP port 5672 is already in use on ::; change it with
 * --amqp-port or WARREN_AMQP_PORT".
 */
export function portInUseError(
  protocol: string,
  port: number,
  host: string,
  flag: string,
  envVar: string,
  cause?: unknown,
): WarrenError {
  return new WarrenError(
    ErrorCodes.PORT_IN_USE,
    `${protocol} port ${port} is already in use on ${host}; change it with ${flag} or ${envVar}`,
    cause === undefined ? undefined : { cause },
  );
}
