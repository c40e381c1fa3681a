/**
 * A persistent message as one JetStream message body:
 *   id f64 | enqueuedAt f64 | exchange u8+utf8 | routing key u8+utf8 | properties u32+bytes (AMQP content header) | body
 * Binary, no JSON per message (DESIGN §5); exchange names and routing keys
 * are AMQP shortstrings (≤ 255 bytes), so one length byte each. The id is
 * the writer's, kept so that a restarted owner's ids go on growing.
 */
import type { PropertiesCodec, StoredMessage } from "../types.js";

export interface DecodedRecord {
  id: number;
  exchange: string;
  routingKey: string;
  encodedProperties: Buffer;
  body: Buffer;
  enqueuedAt: number;
}

export function encodeMessageRecord(
  id: number,
  message: StoredMessage,
  enqueuedAt: number,
  codec: PropertiesCodec,
): { record: Buffer; properties: Buffer } {
  const properties = message.encodedProperties ?? codec.encode(message.properties);
  const exchange = Buffer.from(message.exchange, "utf8");
  const routingKey = Buffer.from(message.routingKey, "utf8");
  if (exchange.length > 255 || routingKey.length > 255)
    throw new RangeError("exchange or routing key longer than 255 bytes");
  const record = Buffer.allocUnsafe(
    16 + 1 + exchange.length + 1 + routingKey.length + 4 + properties.length + message.body.length,
  );
  record.writeDoubleLE(id, 0);
  let at = record.writeDoubleLE(enqueuedAt, 8);
  at = record.writeUInt8(exchange.length, at);
  at += exchange.copy(record, at);
  at = record.writeUInt8(routingKey.length, at);
  at += routingKey.copy(record, at);
  at = record.writeUInt32LE(properties.length, at);
  at += properties.copy(record, at);
  message.body.copy(record, at);
  return { record, properties };
}

export function decodeMessageRecord(data: Uint8Array): DecodedRecord {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const id = buf.readDoubleLE(0);
  const enqueuedAt = buf.readDoubleLE(8);
  let at = 16;
  const exchangeLength = buf.readUInt8(at++);
  const exchange = buf.toString("utf8", at, at + exchangeLength);
  at += exchangeLength;
  const routingKeyLength = buf.readUInt8(at++);
  const routingKey = buf.toString("utf8", at, at + routingKeyLength);
  at += routingKeyLength;
  const propertiesLength = buf.readUInt32LE(at);
  at += 4;
  if (at + propertiesLength > buf.length) throw new RangeError("message record shorter than its properties");
  const encodedProperties = Buffer.from(buf.subarray(at, at + propertiesLength));
  const body = Buffer.from(buf.subarray(at + propertiesLength));
  return { id, exchange, routingKey, encodedProperties, body, enqueuedAt };
}
