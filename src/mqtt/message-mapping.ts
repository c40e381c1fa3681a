import type { IPublishPacket, QoS, UserProperties } from "mqtt-packet";
import { Message, TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../core/message.js";
import { routingKeyToTopic, topicToRoutingKey } from "./topics.js";

/** RabbitMQ's MQTT plugin publishes every MQTT message to this exchange. */
export const MQTT_EXCHANGE = "amq.topic";
/** Headers RabbitMQ's MQTT plugin sets (rabbit_mqtt_processor): the publisher's QoS and DUP flag. */
export const QOS_HEADER = "x-mqtt-publish-qos";
export const DUP_HEADER = "x-mqtt-dup";
/** MQTT 5 payload format indicator, carried as a header so that it survives a trip through AMQP. */
export const PAYLOAD_FORMAT_HEADER = "x-mqtt-payload-format";
/** Correlation data that is not a short UTF-8 string cannot be an AMQP correlation-id. */
export const CORRELATION_HEADER = "x-correlation-id";

/** What MQTT needs to know about a message's publisher (no-local, retain-as-published). */
export class MqttOrigin {
  constructor(
    /** vhost + client id of the publishing session. */
    readonly sessionKey: string,
    readonly retain: boolean,
  ) {}
}

/** Messages enqueued from the retained store on subscribe: delivered with RETAIN=1 [MQTT-3.3.1-8]. */
const fromRetainedStore = new WeakSet<Message>();

/** The MQTT origin of a message an MQTT client published (Message.publisher, opaque to the core). */
export function originOf(message: Message): MqttOrigin | undefined {
  const publisher = message.publisher;
  return publisher instanceof MqttOrigin ? publisher : undefined;
}

export function markRetainedDelivery(message: Message): void {
  fromRetainedStore.add(message);
}

export function isRetainedDelivery(message: Message): boolean {
  return fromRetainedStore.has(message);
}

/** What of a PUBLISH its core message is made from. */
export interface PublishFields {
  qos: QoS;
  dup: boolean;
  properties?: IPublishPacket["properties"] | undefined;
}

/**
 * The headers of a PUBLISH without MQTT 5 properties, one shared frozen table
 * per QoS and DUP flag rather than one per message: the core copies a table
 * before changing it (dead-lettering, delivery counts), and freezing makes
 * any code that does not fail loudly.
 */
const PLAIN_HEADERS: ReadonlyArray<readonly [FieldTable, FieldTable]> = ([0, 1, 2] as const).map((qos) => {
  const field = Object.freeze(new TypedField("b", qos));
  const table = (dup: boolean): FieldTable => Object.freeze({ [QOS_HEADER]: field, [DUP_HEADER]: dup });
  return [table(false), table(true)] as const;
});

/** The properties of such a PUBLISH, shared and frozen the same way (the core replaces properties, never edits them). */
const PLAIN_PROPERTIES: ReadonlyArray<readonly [MessageProperties, MessageProperties]> = PLAIN_HEADERS.map(
  (tables, qos) =>
    tables.map((headers) => Object.freeze({ deliveryMode: qos > 0 ? 2 : 1, headers })) as unknown as readonly [
      MessageProperties,
      MessageProperties,
    ],
);

/**
 * MQTT PUBLISH → core message, as RabbitMQ maps it: amq.topic, `/`→`.`,
 * delivery-mode 2 for QoS ≥ 1, the QoS and DUP in x-mqtt-* headers; MQTT 5
 * properties onto their AMQP counterparts (RabbitMQ 3.13's mapping).
 */
export function publishToMessage(
  packet: PublishFields,
  topic: string,
  payload: Buffer,
  origin: MqttOrigin | null,
): Message {
  const p = packet.properties;
  if (p === undefined) {
    const plain = (PLAIN_PROPERTIES[packet.qos] as readonly [MessageProperties, MessageProperties])[packet.dup ? 1 : 0];
    return newMessage(topic, plain, payload, origin);
  }
  const headers: FieldTable = { [QOS_HEADER]: new TypedField("b", packet.qos), [DUP_HEADER]: packet.dup };
  const properties: MessageProperties = { deliveryMode: packet.qos > 0 ? 2 : 1, headers };
  if (p.contentType !== undefined) properties.contentType = p.contentType;
  if (p.responseTopic !== undefined) properties.replyTo = topicToRoutingKey(p.responseTopic);
  if (p.messageExpiryInterval !== undefined) properties.expiration = String(p.messageExpiryInterval * 1000);
  if (p.payloadFormatIndicator !== undefined) headers[PAYLOAD_FORMAT_HEADER] = p.payloadFormatIndicator;
  if (p.correlationData !== undefined) {
    const text = p.correlationData.toString("utf8");
    if (p.correlationData.length <= 255 && Buffer.from(text, "utf8").equals(p.correlationData))
      properties.correlationId = text;
    else headers[CORRELATION_HEADER] = p.correlationData;
  }
  if (p.userProperties) {
    for (const [key, value] of Object.entries(p.userProperties))
      headers[key] = Array.isArray(value) ? [...value] : value;
  }
  return newMessage(topic, properties, payload, origin);
}

function newMessage(topic: string, properties: MessageProperties, payload: Buffer, origin: MqttOrigin | null): Message {
  const message = new Message(MQTT_EXCHANGE, topicToRoutingKey(topic), properties, payload);
  if (origin) message.publisher = origin;
  return message;
}

/** A PUBLISH to a subscriber, as mqtt-packet takes it (and as a session keeps it for a resend). */
export function publishPacket(
  topic: string,
  payload: Buffer,
  qos: QoS,
  dup: boolean,
  retain: boolean,
  packetId: number,
  properties: IPublishPacket["properties"] | undefined,
): IPublishPacket {
  const packet: IPublishPacket = { cmd: "publish", topic, payload, qos, dup, retain };
  if (qos > 0) packet.messageId = packetId;
  if (properties !== undefined) packet.properties = properties;
  return packet;
}

/** The QoS the publisher used, when it was an MQTT client (RabbitMQ's delivery_qos). */
export function publishedQos(message: Message): QoS | null {
  const value = message.properties.headers?.[QOS_HEADER];
  const n = value instanceof TypedField ? Number(value.value) : typeof value === "number" ? value : null;
  return n === 0 || n === 1 || n === 2 ? n : null;
}

export function messageTopic(message: Message): string {
  return routingKeyToTopic(message.routingKey);
}

/**
 * Core message → the MQTT 5 PUBLISH properties (3.1.1 clients get none).
 * `expiresAt` is when the queue drops the message (ms since the epoch, 0 =
 * unknown): [MQTT-3.3.2-6] the expiry sent on is what is left of it, not the
 * interval the publisher gave.
 */
export function messageToProperties(
  message: Message,
  expiresAt = 0,
  now = Date.now(),
): NonNullable<IPublishPacket["properties"]> {
  const out: NonNullable<IPublishPacket["properties"]> = {};
  const p = message.properties;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.replyTo !== undefined) out.responseTopic = routingKeyToTopic(p.replyTo);
  if (p.correlationId !== undefined) out.correlationData = Buffer.from(p.correlationId, "utf8");
  if (p.expiration !== undefined && /^[0-9]+$/.test(p.expiration)) {
    const remainingMs = expiresAt > 0 ? Math.max(0, expiresAt - now) : Number(p.expiration);
    // Rounded up, and at least 1: 0 would not mean "expires now" to the client but is not a valid remaining life either.
    out.messageExpiryInterval = Math.max(1, Math.ceil(remainingMs / 1000));
  }
  const headers = p.headers;
  if (headers) {
    let user: UserProperties | null = null;
    for (const key of Object.keys(headers)) {
      const value = headers[key] as FieldValue;
      if (key === QOS_HEADER || key === DUP_HEADER) continue;
      if (key === PAYLOAD_FORMAT_HEADER) {
        if (value === true) out.payloadFormatIndicator = true;
        continue;
      }
      if (key === CORRELATION_HEADER && Buffer.isBuffer(value)) {
        out.correlationData = value;
        continue;
      }
      (user ??= {})[key] = Array.isArray(value) ? value.map(headerText) : headerText(value);
    }
    if (user) out.userProperties = user;
  }
  return out;
}

/** AMQP header values become MQTT 5 user-property strings. */
function headerText(value: FieldValue): string {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof TypedField) return String(typeof value.value === "object" ? value.value.value : value.value);
  if (value === null) return "";
  if (typeof value === "object")
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  return String(value);
}
