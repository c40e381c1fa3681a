import type { Message } from "../core/message.js";
import { formatDestination } from "./destinations.js";
import type { StompVersion } from "./frame.js";
import { escapeText, escapingFor, type Escaping, type StompFrameWriter } from "./frame-writer.js";

const LF = 0x0a;
const MESSAGE_ID = Buffer.from("message-id:");
const ACK = Buffer.from("ack:");
const REDELIVERED = [Buffer.from("redelivered:false\n"), Buffer.from("redelivered:true\n")] as const;

/**
 * The headers a subscription's MESSAGE frames begin with, kept as bytes:
 * `subscription`, `destination` (for the last exchange and routing key
 * seen), `message-id` and, for STOMP 1.2 with acks, `ack`, whose id is
 * `<consumer tag>@@<session id>@@<delivery tag>` (RabbitMQ's form) and
 * differs only in the number. What is written is exactly what
 * StompFrameWriter.frame writes for the same header list
 * (test/unit/stomp-frame-writer.test.ts).
 */
export class MessageHead {
  private readonly escaping: Escaping;
  /** "MESSAGE\n" and the subscription line. */
  private readonly start: Buffer;
  /** The escaped message-id up to the delivery tag. */
  private readonly idPrefix: Buffer;
  private readonly ack: boolean;
  private exchange = "";
  private routingKey = "";
  private destination: Buffer | null = null;

  constructor(
    subscriptionId: string | null,
    consumerTag: string,
    sessionId: string,
    version: StompVersion,
    acked: boolean,
  ) {
    const escaping = escapingFor(version, "MESSAGE");
    this.escaping = escaping;
    const subscription = subscriptionId === null ? "" : `subscription:${escapeText(subscriptionId, escaping)}\n`;
    this.start = Buffer.from(`MESSAGE\n${subscription}`, "utf8");
    // A decimal delivery tag never needs escaping: escaping the prefix escapes the whole id.
    this.idPrefix = Buffer.from(escapeText(`${consumerTag}@@${sessionId}@@`, escaping), "utf8");
    // Only 1.2 has the ack header; RabbitMQ sends it for both client ack modes.
    this.ack = version === "1.2" && acked;
  }

  /** Begins `writer`'s MESSAGE frame for `message`, delivery `tag`; the properties' headers and the body follow. */
  write(writer: StompFrameWriter, message: Message, tag: number, redelivered: boolean): void {
    writer.begin("MESSAGE", this.start);
    const out = writer.out;
    out.bytes(this.destinationOf(message));
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
  }

  private destinationOf(message: Message): Buffer {
    if (this.destination === null || message.exchange !== this.exchange || message.routingKey !== this.routingKey) {
      this.exchange = message.exchange;
      this.routingKey = message.routingKey;
      const text = escapeText(formatDestination(message.exchange, message.routingKey), this.escaping);
      this.destination = Buffer.from(`destination:${text}\n`, "utf8");
    }
    return this.destination;
  }
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
