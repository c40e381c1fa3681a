import type { Message, MessageProperties } from "../core/message.js";
import { formatDestination } from "./destinations.js";
import type { StompVersion } from "./frame.js";
import { StompFrameWriter, escapeText, escapingFor, type Escaping } from "./frame-writer.js";
import { headersFromProperties } from "./properties.js";

const LF = 0x0a;
const MESSAGE_ID = Buffer.from("message-id:");
const ACK = Buffer.from("ack:");
const REDELIVERED = [Buffer.from("redelivered:false\n"), Buffer.from("redelivered:true\n")] as const;
const CONTENT_LENGTH = Buffer.from("content-length:");
/** Bodies up to this size are copied into the frame with the head; larger ones go through OutputBuffer.bytes (by reference from 4 KiB). */
const INLINE_BODY = 1024;
/**
 * Runs of bytes up to this long are copied with a loop, longer ones with
 * TypedArray#set. Measured here (node 20, a 52- and a 64-byte piece of a
 * MESSAGE): set ~30 ns flat, a loop ~2 ns a byte; amqp/codec/deliver.ts's 64
 * was measured on whole deliver frames.
 */
const SHORT_COPY = 16;

/**
 * A subscription's MESSAGE frames, written whole into the connection's
 * output buffer. Everything but the delivery tag (twice in STOMP 1.2 with
 * acks), the redelivered flag, the body length and the body is the same
 * from one delivery to the next while the messages keep their exchange,
 * routing key and properties object — a STOMP producer repeating its head
 * shares one frozen properties object (send-cache.ts), an AMQP one the
 * same property bytes — so those bytes are kept as a template of three
 * pieces: the head up to the message-id's tag; the redelivered line and
 * ack id prefix (or, without the ack header, the rest); and the
 * properties' headers with "content-length:". A message with other
 * properties is written header by header, and the template is rebuilt
 * once a second message in a row has them. The message-id is RabbitMQ's
 * `<consumer tag>@@<session id>@@<delivery tag>`. What is written is
 * exactly what StompFrameWriter.frame writes for the same header list
 * (test/unit/stomp-frame-writer.test.ts).
 */
export class MessageHead {
  private readonly version: StompVersion;
  private readonly escaping: Escaping;
  /** "MESSAGE\n" and the subscription line. */
  private readonly start: Buffer;
  /** The escaped message-id up to the delivery tag. */
  private readonly idPrefix: Buffer;
  private readonly ack: boolean;
  private exchange = "";
  private routingKey = "";
  private destination: Buffer | null = null;
  /** The properties the template was made for (by identity), and their AMQP bytes when they came with some. */
  private properties: MessageProperties | null = null;
  private encodedProperties: Buffer | null = null;
  /** Properties seen once: a second message with them in a row makes the template. */
  private candidate: MessageProperties | null = null;
  private candidateEncoded: Buffer | null = null;
  private before: Buffer = EMPTY;
  /** After the first tag, by redelivered flag. */
  private middle: readonly [Buffer, Buffer] = [EMPTY, EMPTY];
  /** After the ack header's tag (STOMP 1.2 with acks only). */
  private tail: Buffer = EMPTY;

  constructor(
    subscriptionId: string | null,
    consumerTag: string,
    sessionId: string,
    version: StompVersion,
    acked: boolean,
  ) {
    const escaping = escapingFor(version, "MESSAGE");
    this.version = version;
    this.escaping = escaping;
    const subscription = subscriptionId === null ? "" : `subscription:${escapeText(subscriptionId, escaping)}\n`;
    this.start = Buffer.from(`MESSAGE\n${subscription}`, "utf8");
    // A decimal delivery tag never needs escaping: escaping the prefix escapes the whole id.
    this.idPrefix = Buffer.from(escapeText(`${consumerTag}@@${sessionId}@@`, escaping), "utf8");
    // Only 1.2 has the ack header; RabbitMQ sends it for both client ack modes.
    this.ack = version === "1.2" && acked;
  }

  /** Writes the MESSAGE frame of `message`, delivery `tag`, into `writer`. */
  write(writer: StompFrameWriter, message: Message, tag: number, redelivered: boolean): void {
    if (!this.templateFits(message)) return this.writeHeaders(writer, message, tag, redelivered);
    const out = writer.out;
    const body = message.body;
    const n = body.length;
    const before = this.before;
    const middle = this.middle[redelivered ? 1 : 0];
    const tail = this.tail;
    const inline = n <= INLINE_BODY;
    const tagDigits = digitsOf(tag);
    const size =
      before.length +
      tagDigits +
      middle.length +
      (this.ack ? tagDigits + tail.length : 0) +
      digitsOf(n) +
      2 +
      (inline ? n + 2 : 0);
    let p = out.reserve(size);
    const b = out.target;
    p = copyInto(b, p, before);
    p = putDecimal(b, p, tag, tagDigits);
    p = copyInto(b, p, middle);
    if (this.ack) {
      p = putDecimal(b, p, tag, tagDigits);
      p = copyInto(b, p, tail);
    }
    p = putDecimal(b, p, n, digitsOf(n));
    b[p++] = LF;
    b[p++] = LF;
    if (inline) {
      p = copyInto(b, p, body);
      b[p++] = 0;
      b[p] = LF;
      return;
    }
    out.bytes(body);
    out.u8(0);
    out.u8(LF);
  }

  /** Whether the template is for this message's exchange, routing key and properties, making it when it should be. */
  private templateFits(message: Message): boolean {
    const properties = message.properties;
    if (this.destination === null || message.exchange !== this.exchange || message.routingKey !== this.routingKey) {
      this.exchange = message.exchange;
      this.routingKey = message.routingKey;
      const text = escapeText(formatDestination(message.exchange, message.routingKey), this.escaping);
      this.destination = Buffer.from(`destination:${text}\n`, "utf8");
      if (this.properties === null) return false;
      // Same properties, another destination: only the first piece changes.
      this.before = Buffer.concat([this.start, this.destination, MESSAGE_ID, this.idPrefix]);
    }
    if (properties === this.properties) return true;
    const encoded = message.encodedProperties;
    if (encoded !== null && this.encodedProperties !== null && sameBytes(encoded, this.encodedProperties)) {
      this.properties = properties;
      this.encodedProperties = encoded;
      return true;
    }
    const again =
      properties === this.candidate ||
      (encoded !== null && this.candidateEncoded !== null && sameBytes(encoded, this.candidateEncoded));
    if (!again) {
      this.candidate = properties;
      this.candidateEncoded = encoded;
      return false;
    }
    this.build(properties, encoded);
    return true;
  }

  private build(properties: MessageProperties, encoded: Buffer | null): void {
    const scratch = new StompFrameWriter();
    scratch.version = this.version;
    scratch.begin("MESSAGE", EMPTY);
    headersFromProperties(properties, scratch, SERVER_HEADERS);
    const headers = Buffer.concat([...scratch.take(), CONTENT_LENGTH]);
    this.before = Buffer.concat([this.start, this.destination as Buffer, MESSAGE_ID, this.idPrefix]);
    const newline = Buffer.from([LF]);
    const line = (redelivered: 0 | 1): Buffer =>
      this.ack
        ? Buffer.concat([newline, REDELIVERED[redelivered], ACK, this.idPrefix])
        : Buffer.concat([newline, REDELIVERED[redelivered], headers]);
    this.middle = [line(0), line(1)];
    this.tail = this.ack ? Buffer.concat([newline, headers]) : EMPTY;
    this.properties = properties;
    this.encodedProperties = encoded;
    this.candidate = null;
    this.candidateEncoded = null;
  }

  /** The frame header by header: messages whose properties change from one to the next. */
  private writeHeaders(writer: StompFrameWriter, message: Message, tag: number, redelivered: boolean): void {
    writer.begin("MESSAGE", this.start);
    const out = writer.out;
    out.bytes(this.destination as Buffer);
    out.bytes(MESSAGE_ID);
    out.bytes(this.idPrefix);
    out.decimal(tag);
    out.u8(LF);
    out.bytes(REDELIVERED[redelivered ? 1 : 0]);
    if (this.ack) {
      out.bytes(ACK);
      out.bytes(this.idPrefix);
      out.decimal(tag);
      out.u8(LF);
    }
    headersFromProperties(message.properties, writer, SERVER_HEADERS);
    writer.end(message.body);
  }
}

const EMPTY = Buffer.alloc(0);

function copyInto(target: Buffer, at: number, source: Buffer): number {
  const n = source.length;
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) target[at + i] = source[i] as number;
  else target.set(source, at);
  return at + n;
}

function digitsOf(value: number): number {
  if (value < 10) return 1;
  if (value < 100) return 2;
  if (value < 1000) return 3;
  if (value < 10000) return 4;
  if (value < 100000) return 5;
  if (value < 1000000) return 6;
  let digits = 7;
  for (let v = Math.floor(value / 10000000); v > 0; v = Math.floor(v / 10)) digits++;
  return digits;
}

/** A non-negative integer of `digits` decimal digits at `at`; returns the offset after it. */
function putDecimal(target: Buffer, at: number, value: number, digits: number): number {
  let v = value;
  if (v <= 0x7fffffff) {
    // Small integers: integer division, no floating point.
    for (let i = at + digits - 1; i >= at; i--) {
      const q = (v / 10) | 0;
      target[i] = 0x30 + v - q * 10;
      v = q;
    }
    return at + digits;
  }
  for (let i = at + digits - 1; i >= at; i--) {
    target[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Headers the server sets on MESSAGE frames; a publisher's header of the same name loses (RabbitMQ does the same). */
export const SERVER_HEADERS: ReadonlySet<string> = new Set([
  "subscription",
  "destination",
  "message-id",
  "redelivered",
  "ack",
  "content-length",
]);
