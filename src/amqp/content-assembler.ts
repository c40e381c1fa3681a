import type { Exchange } from "../core/exchanges/exchange.js";
import { Message, type MessageProperties } from "../core/message.js";
import { decodeProperties, readContentHeader } from "./codec/properties.js";
import type { Channel } from "./channel.js";
import { AmqpError, REPLY } from "./reply-codes.js";

export interface PublishIntent {
  exchange: Exchange;
  routingKey: string;
  mandatory: boolean;
}

export interface CompletePublish extends PublishIntent {
  message: Message;
}

/**
 * Collects basic.publish + content header + body frames into one message.
 * Any other frame in between is RabbitMQ's 505 UNEXPECTED_FRAME.
 */
export class ContentAssembler {
  private intent: PublishIntent | null = null;
  private expectingHeader = false;
  private properties: Buffer | null = null;
  /**
   * Publishers mostly repeat the same properties: when the bytes match the
   * previous message's, its decoded object is shared (the core copies
   * properties before changing them, never mutating in place).
   */
  private lastProperties: Buffer | null = null;
  private lastDecoded: MessageProperties | null = null;
  private bodySize = 0;
  private received = 0;
  private parts: Buffer[] = [];

  get pending(): boolean {
    return this.intent !== null;
  }

  begin(intent: PublishIntent): void {
    this.intent = intent;
    this.expectingHeader = true;
  }

  onHeader(payload: Buffer, channel: Channel): CompletePublish | null {
    if (!this.intent || !this.expectingHeader) {
      throw new AmqpError(REPLY.UNEXPECTED_FRAME, "expected method frame, got non method frame instead");
    }
    const header = readContentHeader(payload, 0, payload.length);
    if (header.classId !== 60) {
      throw new AmqpError(REPLY.UNEXPECTED_FRAME, `expected content header for class 60, got one for class ${header.classId} instead`);
    }
    const max = channel.connection.ctx.limits.maxMessageSize;
    if (header.bodySize > max) {
      this.reset();
      throw new AmqpError(REPLY.PRECONDITION_FAILED, `message size ${header.bodySize} is larger than configured max size ${max}`);
    }
    const raw = payload.subarray(header.propertiesStart);
    if (this.lastProperties === null || !raw.equals(this.lastProperties)) {
      // Copied: the socket chunk it points into must not be kept alive by a queued message.
      this.lastProperties = Buffer.from(raw);
      this.lastDecoded = null;
    }
    this.properties = this.lastProperties;
    this.bodySize = header.bodySize;
    this.expectingHeader = false;
    return this.bodySize === 0 ? this.complete() : null;
  }

  onBody(payload: Buffer): CompletePublish | null {
    if (!this.intent || this.expectingHeader) {
      throw new AmqpError(
        REPLY.UNEXPECTED_FRAME,
        this.intent ? "expected content header for class 60, got non content header frame instead" : "expected method frame, got non method frame instead",
      );
    }
    this.received += payload.length;
    if (this.received > this.bodySize) {
      throw new AmqpError(REPLY.FRAME_ERROR, `content body exceeds the declared size ${this.bodySize}`);
    }
    this.parts.push(payload);
    return this.received === this.bodySize ? this.complete() : null;
  }

  private complete(): CompletePublish {
    const intent = this.intent as PublishIntent;
    const properties = this.properties as Buffer;
    const body =
      this.parts.length === 1 ? Buffer.from(this.parts[0] as Buffer) : Buffer.concat(this.parts, this.bodySize);
    const decoded = (this.lastDecoded ??= decodeProperties(properties, 0, properties.length));
    const message = new Message(intent.exchange.name, intent.routingKey, decoded, body, properties);
    this.reset();
    return { exchange: intent.exchange, routingKey: intent.routingKey, mandatory: intent.mandatory, message };
  }

  private reset(): void {
    this.intent = null;
    this.expectingHeader = false;
    this.properties = null;
    this.bodySize = 0;
    this.received = 0;
    this.parts = [];
  }
}
