import type { CoreError, CoreErrorKind } from "../core/errors.js";

/** AMQP 0-9-1 reply codes and their names as they appear in reply texts. */
export const REPLY = {
  SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

const NAMES = new Map<number, string>(Object.entries(REPLY).map(([name, code]) => [code, name]));

/** Channel-level (soft) errors close only the channel; the rest close the connection. */
const SOFT = new Set<number>([311, 312, 313, 403, 404, 405, 406]);

export const isConnectionError = (code: number): boolean => !SOFT.has(code);

/** RabbitMQ prefixes every error text with the code's name: "NOT_FOUND - no queue 'q' in vhost '/'". */
export const replyText = (code: number, text: string): string =>
  truncateShortstr(`${NAMES.get(code) ?? "INTERNAL_ERROR"} - ${text}`);

/** reply-text is a shortstr: RabbitMQ cuts longer texts (e.g. long queue names) rather than failing. */
function truncateShortstr(text: string): string {
  if (Buffer.byteLength(text) <= 255) return text;
  let cut = Buffer.from(text).subarray(0, 252).toString("utf8");
  // A multi-byte character cut in half decodes to U+FFFD: drop it.
  while (Buffer.byteLength(cut) > 252 || cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return `${cut}...`;
}

const CODE_OF_KIND: Record<CoreErrorKind, number> = {
  "not-found": REPLY.NOT_FOUND,
  "precondition-failed": REPLY.PRECONDITION_FAILED,
  "access-refused": REPLY.ACCESS_REFUSED,
  "resource-locked": REPLY.RESOURCE_LOCKED,
  "not-allowed": REPLY.NOT_ALLOWED,
  "command-invalid": REPLY.COMMAND_INVALID,
  "not-implemented": REPLY.NOT_IMPLEMENTED,
  "resource-error": REPLY.RESOURCE_ERROR,
  "internal-error": REPLY.INTERNAL_ERROR,
};

/** An error to answer with channel.close or connection.close. */
export class AmqpError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(replyText(code, text));
    this.name = "AmqpError";
  }

  static fromCore(error: CoreError): AmqpError {
    return new AmqpError(CODE_OF_KIND[error.kind], error.message);
  }
}
