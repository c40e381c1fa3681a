/**
 * Raised by the AMQP codec on malformed input (truncated payloads, unknown
 * methods, unknown field-table types) or on values that cannot be encoded
 * (a shortstr longer than 255 bytes, an int64 out of range).
 *
 * `replyCode` is the AMQP reply code to answer such input with: 501
 * FRAME_ERROR for method payloads that do not match their method's layout
 * (RabbitMQ's "cannot decode <<...>>"), 540 NOT_IMPLEMENTED for unknown
 * methods, 502 SYNTAX_ERROR otherwise (the default). `methodId` is the
 * (classId << 16 | methodId) of the method being decoded, or 0; it gives
 * connection.close / channel.close their class-id and method-id.
 */
export class AmqpCodecError extends Error {
  readonly replyCode: number;
  methodId: number;

  constructor(message: string, replyCode = 502, methodId = 0) {
    super(message);
    this.name = "AmqpCodecError";
    this.replyCode = replyCode;
    this.methodId = methodId;
  }
}

/** Longest explanation that still fits a reply-text after "FRAME_ERROR - " (shortstr: 255). */
const MAX_EXPLANATION = 255 - "FRAME_ERROR - ".length;

/**
 * RabbitMQ's error for a method payload that does not decode:
 * "cannot decode <<1,2,3>>" (the argument bytes, rendered as Erlang's ~w),
 * cut the way RabbitMQ cuts reply texts longer than 255 (to 252 + "...").
 */
export function cannotDecode(methodId: number, b: Buffer, start: number, end: number): AmqpCodecError {
  let text = "cannot decode <<";
  for (let i = start; i < end && text.length <= MAX_EXPLANATION; i++) {
    text += i === start ? String(b[i]) : `,${b[i]}`;
  }
  text += ">>";
  if (text.length > MAX_EXPLANATION) text = `${text.slice(0, MAX_EXPLANATION - 3)}...`;
  return new AmqpCodecError(text, 501, methodId);
}
