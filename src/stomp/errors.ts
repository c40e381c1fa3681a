import { CoreError } from "../core/errors.js";
import type { StompFrameWriter } from "./frame-writer.js";

/**
 * A STOMP ERROR frame's content: `message` header and explanatory body.
 * `fatal` errors close the connection after the ERROR frame; RabbitMQ keeps
 * the session open after the plugin's own checks (missing header, bad
 * destination) but closes it when the underlying AMQP channel fails.
 */
export class StompError extends Error {
  constructor(
    readonly summary: string,
    readonly detail: string,
    readonly fatal = false,
  ) {
    super(`${summary}: ${detail}`);
    this.name = "StompError";
  }

  /**
   * A core error as RabbitMQ's STOMP plugin reports a channel exception:
   * message "not_found", body "NOT_FOUND - no queue 'q' in vhost '/'".
   */
  static fromCore(error: CoreError): StompError {
    const name = error.kind.replace(/-/g, "_");
    return new StompError(name, `${name.toUpperCase()} - ${error.message}`, true);
  }
}

export function toStompError(error: unknown): StompError | null {
  if (error instanceof StompError) return error;
  if (error instanceof CoreError) return StompError.fromCore(error);
  return null;
}

// The texts below are RabbitMQ 3.10's (rabbit_stomp_processor), checked against a live broker.

export const missingHeader = (command: string, header: string): StompError =>
  new StompError(`Missing ${header}`, `"${command}" must include a '${header}' header\n`);

export const invalidTransaction = (id: string): StompError =>
  new StompError("Bad transaction", `Invalid transaction identifier: "${id}"\n`);

/** Writes an ERROR frame as RabbitMQ does: text/plain, with the versions it speaks. */
export function writeError(writer: StompFrameWriter, error: StompError): void {
  writer.frame(
    "ERROR",
    [
      ["message", error.summary],
      ["content-type", "text/plain"],
      ["version", "1.0,1.1,1.2"],
    ],
    Buffer.from(error.detail, "utf8"),
  );
}
