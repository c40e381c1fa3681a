/**
 * Errors the core raises. Each adapter translates a kind into its protocol's
 * answer in one place (AMQP reply codes, MQTT reason codes, STOMP ERROR).
 * Messages are RabbitMQ's texts without the AMQP "NAME - " prefix.
 */
export type CoreErrorKind =
  | "not-found"
  | "precondition-failed"
  | "access-refused"
  | "resource-locked"
  | "not-allowed"
  | "command-invalid"
  | "not-implemented"
  | "resource-error"
  | "internal-error";

export class CoreError extends Error {
  constructor(
    readonly kind: CoreErrorKind,
    message: string,
    /**
     * The configured limit that refused the operation ("max-queues",
     * "max-connections" ...), or null. AMQP answers by `kind` alone; MQTT 5
     * has its own reason code for it (0x97 Quota exceeded).
     */
    readonly limit: string | null = null,
  ) {
    super(message);
    this.name = "CoreError";
  }
}

export const notFound = (what: string, name: string, vhost: string): CoreError =>
  new CoreError("not-found", `no ${what} '${name}' in vhost '${vhost}'`);

export const preconditionFailed = (message: string): CoreError => new CoreError("precondition-failed", message);

export const accessRefused = (message: string): CoreError => new CoreError("access-refused", message);

/** An operation a configured limit refuses (see CoreError.limit). */
export const limitReached = (kind: CoreErrorKind, limit: string, message: string): CoreError =>
  new CoreError(kind, message, limit);

export const resourceLocked = (message: string): CoreError => new CoreError("resource-locked", message);
