/**
 * The canonical message: AMQP's (exchange, routing key, basic properties,
 * body). MQTT and STOMP map onto it exactly as RabbitMQ's plugins do.
 */

/** AMQP field-table types that have no natural JS counterpart keep their tag. */
export type TypedFieldTag = "b" | "B" | "s" | "u" | "I" | "i" | "l" | "f" | "d" | "D" | "T";

/**
 * A field value whose wire type must be preserved on re-encoding, e.g. a
 * timestamp ('T', seconds since the epoch) or a decimal ('D').
 */
export class TypedField {
  constructor(
    readonly type: TypedFieldTag,
    readonly value: number | bigint | Decimal,
  ) {}
}

export interface Decimal {
  readonly scale: number;
  readonly value: number;
}

export type FieldValue = boolean | number | bigint | string | Buffer | null | TypedField | FieldValue[] | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** AMQP basic properties, in the spec's order. */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** seconds since the epoch, as on the wire */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

export class Message {
  /**
   * The AMQP content-header property bytes (flags + property list) this
   * message arrived with, so that delivering it again needs no re-encoding.
   * Null when the properties were built or changed in the broker.
   */
  encodedProperties: Buffer | null;
  /**
   * Who published it, in the publishing adapter's own terms (MQTT: the
   * session, for no-local and retain-as-published); the core never reads it.
   * A field rather than a WeakMap beside the message: a WeakMap entry per
   * message was 10 % of broker CPU for MQTT QoS 0 (issue 15 §3).
   */
  publisher: object | null = null;

  constructor(
    public exchange: string,
    public routingKey: string,
    public properties: MessageProperties,
    public body: Buffer,
    encodedProperties: Buffer | null = null,
  ) {
    this.encodedProperties = encodedProperties;
  }

  get persistent(): boolean {
    return this.properties.deliveryMode === 2;
  }

  /** Replaces the properties and drops the cached encoding. */
  setProperties(properties: MessageProperties): void {
    this.properties = properties;
    this.encodedProperties = null;
  }
}
