/**
 * Records of the MQTT state log, framed as the message log's
 * (record-codec.ts: length, CRC-32, payload). Payload: type byte, then
 *   SessionPut      vhost u16+utf8 | client id u16+utf8 | JSON u32+utf8 (expiry, detachedAt, subscriptions, inbound QoS 2 ids)
 *   SessionDelete   vhost u16+utf8 | client id u16+utf8
 *   RetainedPut     vhost u16+utf8 | topic u16+utf8 | qos u8 | properties u32+bytes (AMQP content header) | payload
 *   RetainedDelete  vhost u16+utf8 | topic u16+utf8
 * Session records are small and rare (a (un)subscribe, a connect), so JSON;
 * retained payloads stay binary (the old file had them in base64).
 * Type numbers differ from the message log's, so a file mix-up is refused.
 */
import type { PropertiesCodec, StoredMqttSession, StoredMqttSubscription, StoredRetained } from "../types.js";
import { frameRecord } from "./record-codec.js";

export const MqttRecordType = {
  SessionPut: 0x21,
  SessionDelete: 0x22,
  RetainedPut: 0x23,
  RetainedDelete: 0x24,
} as const;

export type MqttStateRecord =
  | { type: typeof MqttRecordType.SessionPut; session: StoredMqttSession }
  | { type: typeof MqttRecordType.SessionDelete; vhost: string; clientId: string }
  | { type: typeof MqttRecordType.RetainedPut; retained: StoredRetained }
  | { type: typeof MqttRecordType.RetainedDelete; vhost: string; topic: string };

/** Builds a payload of a type byte, u16-prefixed strings and an optional tail. */
function payloadOf(type: number, strings: readonly string[], tail: readonly Buffer[] = []): Buffer {
  const encoded = strings.map((s) => Buffer.from(s, "utf8"));
  for (const part of encoded)
    if (part.length > 0xffff) throw new RangeError("MQTT state string longer than 65535 bytes");
  const length = 1 + encoded.reduce((n, part) => n + 2 + part.length, 0) + tail.reduce((n, part) => n + part.length, 0);
  const out = Buffer.allocUnsafeSlow(length);
  out[0] = type;
  let at = 1;
  for (const part of encoded) {
    out.writeUInt16LE(part.length, at);
    at += 2 + part.copy(out, at + 2);
  }
  for (const part of tail) at += part.copy(out, at);
  return out;
}

const u32 = (n: number): Buffer => {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32LE(n, 0);
  return out;
};

export function encodeSessionPut(session: StoredMqttSession): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      expirySeconds: session.expirySeconds,
      detachedAt: session.detachedAt,
      subscriptions: session.subscriptions,
      inboundQos2: session.inboundQos2,
    }),
    "utf8",
  );
  return frameRecord(payloadOf(MqttRecordType.SessionPut, [session.vhost, session.clientId], [u32(json.length), json]));
}

export function encodeRetainedPut(message: StoredRetained, codec: PropertiesCodec): Buffer {
  const properties = codec.encode(message.properties);
  return frameRecord(
    payloadOf(
      MqttRecordType.RetainedPut,
      [message.vhost, message.topic],
      [Buffer.of(message.qos), u32(properties.length), properties, message.payload],
    ),
  );
}

export const encodeSessionDelete = (vhost: string, clientId: string): Buffer =>
  frameRecord(payloadOf(MqttRecordType.SessionDelete, [vhost, clientId]));

export const encodeRetainedDelete = (vhost: string, topic: string): Buffer =>
  frameRecord(payloadOf(MqttRecordType.RetainedDelete, [vhost, topic]));

/**
 * Decodes and validates the payload [start, end) of a frame whose checksum
 * held; throws on anything malformed (the caller quarantines the record).
 * The retained payload is copied, so the file's buffer is not kept alive.
 */
export function decodeMqttRecord(buf: Buffer, start: number, end: number, codec: PropertiesCodec): MqttStateRecord {
  let at = start + 1;
  const take = (n: number, what: string): number => {
    if (at + n > end) throw new Error(`${what} past record end`);
    const from = at;
    at += n;
    return from;
  };
  const str = (): string => {
    const n = buf.readUInt16LE(take(2, "string length"));
    const from = take(n, "string");
    return buf.toString("utf8", from, from + n);
  };
  const type = buf[start];
  switch (type) {
    case MqttRecordType.SessionPut: {
      const vhost = str();
      const clientId = str();
      const n = buf.readUInt32LE(take(4, "JSON length"));
      const from = take(n, "JSON");
      if (at !== end) throw new Error("bytes after session JSON");
      return { type, session: sessionFromJson(vhost, clientId, JSON.parse(buf.toString("utf8", from, from + n))) };
    }
    case MqttRecordType.RetainedPut: {
      const vhost = str();
      const topic = str();
      const qos = buf[take(1, "qos")] as number;
      if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error(`retained qos ${qos}`);
      const n = buf.readUInt32LE(take(4, "properties length"));
      const from = take(n, "properties");
      const properties = codec.decode(buf.subarray(from, from + n));
      return { type, retained: { vhost, topic, qos, properties, payload: Buffer.from(buf.subarray(at, end)) } };
    }
    case MqttRecordType.SessionDelete:
    case MqttRecordType.RetainedDelete: {
      const vhost = str();
      const name = str();
      if (at !== end) throw new Error("bytes after delete record");
      return type === MqttRecordType.SessionDelete ? { type, vhost, clientId: name } : { type, vhost, topic: name };
    }
    default:
      throw new Error(`unknown MQTT state record type ${String(type)}`);
  }
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function sessionFromJson(vhost: string, clientId: string, json: unknown): StoredMqttSession {
  const o = json as Record<string, unknown> | null;
  if (o === null || typeof o !== "object") throw new Error("session is not an object");
  const { expirySeconds, detachedAt, subscriptions, inboundQos2 } = o;
  if (!isInt(expirySeconds) || !isInt(detachedAt)) throw new Error("session expiry or detach time invalid");
  if (!Array.isArray(subscriptions) || !Array.isArray(inboundQos2)) throw new Error("session lists invalid");
  if (!inboundQos2.every((id) => isInt(id) && id > 0 && id <= 0xffff))
    throw new Error("session QoS 2 packet ids invalid");
  return {
    vhost,
    clientId,
    expirySeconds,
    detachedAt,
    subscriptions: subscriptions.map(subscriptionFromJson),
    inboundQos2,
  };
}

function subscriptionFromJson(json: unknown): StoredMqttSubscription {
  const s = json as Record<string, unknown> | null;
  if (s === null || typeof s !== "object") throw new Error("subscription is not an object");
  const { key, filter, qos, group, noLocal, retainAsPublished, retainHandling, identifier } = s;
  if (typeof key !== "string" || typeof filter !== "string" || (qos !== 0 && qos !== 1 && qos !== 2))
    throw new Error("subscription filter or qos invalid");
  if (group !== null && typeof group !== "string") throw new Error("subscription group invalid");
  if (typeof noLocal !== "boolean" || typeof retainAsPublished !== "boolean" || !isInt(retainHandling))
    throw new Error("subscription options invalid");
  if (identifier !== undefined && !isInt(identifier)) throw new Error("subscription identifier invalid");
  return { key, filter, qos, group, noLocal, retainAsPublished, retainHandling, identifier };
}
