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
  ) {
    super(message);
    this.name = "CoreError";
  }
}

export const notFound = (what: string, name: string, vhost: string): CoreError =>
  new CoreError("not-found", `no ${what} '${name}' in vhost '${vhost}'`);

export const preconditionFailed = (message: string): CoreError =>
  new CoreError("precondition-failed", message);

export const accessRefused = (message: string): CoreError => new CoreError("access-refused", message);

export const resourceLocked = (message: string): CoreError => new CoreError("resource-locked", message);
