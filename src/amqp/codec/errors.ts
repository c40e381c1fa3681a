/**
 * Raised by the AMQP codec on malformed input (truncated payloads, unknown
 * methods, unknown field-table types) or on values that cannot be encoded
 * (a shortstr longer than 255 bytes, an int64 out of range).
 *
 * `replyCode` is the AMQP reply code RabbitMQ answers such input with:
 * 501 FRAME_ERROR for payloads that cannot be decoded (RabbitMQ's
 * "cannot decode ..."), 502 SYNTAX_ERROR otherwise (the default).
 */
export class AmqpCodecError extends Error {
  readonly replyCode: number;

  constructor(message: string, replyCode = 502) {
    super(message);
    this.name = "AmqpCodecError";
    this.replyCode = replyCode;
  }
}
