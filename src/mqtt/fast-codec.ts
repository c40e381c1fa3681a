import type { IPublishPacket, QoS } from "mqtt-packet";
import type { OutputBuffer } from "../transport/output-buffer.js";

/**
 * The per-message packets, PUBLISH and PUBACK, decoded and encoded by hand
 * (a plain PUBACK is read in packet-reader.ts):
 * mqtt-packet's parser copies every packet through a BufferList with debug
 * calls at each step, and its generator builds a list of small Buffers per
 * packet and concatenates them (together 20–30 % of the broker's CPU at
 * QoS 0 in the issue 15 profiles). Everything else, and anything unusual
 * here (MQTT 5 properties, a malformed packet), still goes through
 * mqtt-packet, so its checks and error texts stay the only ones. The bytes
 * written are exactly mqtt-packet's (test/unit/mqtt-fast-codec.test.ts).
 */

const PUBLISH = 3;

/** The last topic decoded on a connection: a publisher mostly repeats one, so its string is kept. */
export class TopicMemo {
  bytes: Buffer = Buffer.alloc(0);
  topic = "";

  /** `chunk[start, end)` as a string, without decoding it again when it is the previous topic. */
  decode(chunk: Buffer, start: number, end: number): string {
    const n = end - start;
    const known = this.bytes;
    if (known.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (known[i] !== chunk[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.topic;
    }
    this.topic = chunk.toString("utf8", start, end);
    this.bytes = Buffer.from(chunk.subarray(start, end));
    return this.topic;
  }
}

/**
 * Decodes the whole packet at `chunk[start, end)` (its fixed header is
 * `headerLength` bytes) when it is a PUBLISH the fast path takes,
 * as mqtt-packet's parser would give it; null sends it to mqtt-packet.
 */
export function decodeFast(
  chunk: Buffer,
  start: number,
  headerLength: number,
  end: number,
  v5: boolean,
  topics: TopicMemo,
): IPublishPacket | null {
  const first = chunk[start] as number;
  const type = first >> 4;
  const length = end - start - headerLength;
  let p = start + headerLength;
  if (type !== PUBLISH) return null;
  const qos = (first >> 1) & 3;
  if (qos === 3 || length < 2) return null;
  const topicLength = (chunk[p] as number) * 256 + (chunk[p + 1] as number);
  p += 2;
  const idLength = qos > 0 ? 2 : 0;
  if (p + topicLength + idLength + (v5 ? 1 : 0) > end) return null;
  const topic = topics.decode(chunk, p, p + topicLength);
  p += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    messageId = (chunk[p] as number) * 256 + (chunk[p + 1] as number);
    p += 2;
  }
  if (v5) {
    if (chunk[p] !== 0) return null; // properties: mqtt-packet decodes them
    p++;
  }
  const packet: IPublishPacket = {
    cmd: "publish",
    retain: (first & 1) !== 0,
    qos: qos as QoS,
    dup: (first & 8) !== 0,
    length,
    topic,
    payload: chunk.subarray(p, end),
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/** UTF-8 bytes of topics sent out, by topic (bounded like the route cache: full, it starts over). */
const topicBytes = new Map<string, Buffer>();
const TOPIC_CACHE_SIZE = 1024;

export function topicBytesOf(topic: string): Buffer {
  let bytes = topicBytes.get(topic);
  if (bytes === undefined) {
    if (topicBytes.size >= TOPIC_CACHE_SIZE) topicBytes.clear();
    bytes = Buffer.from(topic, "utf8");
    topicBytes.set(topic, bytes);
  }
  return bytes;
}

/** Whether MQTT 5 PUBLISH properties are empty, so that the PUBLISH can be written here. */
export function hasNoProperties(properties: object | undefined): boolean {
  if (properties === undefined) return true;
  for (const _key in properties) return false;
  return true;
}

/** Bytes of a Remaining Length [MQTT-1.5.5]. */
const varIntLength = (n: number): number => (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4);

/**
 * The size of a PUBLISH without MQTT 5 properties (`v5`: an empty property
 * list), or -1 when it does not fit a packet.
 */
export function publishSize(topic: Buffer, qos: number, payload: Buffer, v5: boolean): number {
  const remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length;
  if (remaining > 268435455) return -1;
  return 1 + varIntLength(remaining) + remaining;
}

/** Writes a PUBLISH without properties, as mqtt-packet's generate would. */
export function writePublish(
  out: OutputBuffer,
  topic: Buffer,
  qos: number,
  dup: boolean,
  retain: boolean,
  messageId: number,
  payload: Buffer,
  v5: boolean,
): void {
  let remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length;
  const head = 1 + varIntLength(remaining) + remaining - payload.length;
  let p = out.reserve(head);
  const b = out.target;
  b[p++] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    b[p++] = byte;
  } while (remaining > 0);
  b[p++] = topic.length >> 8;
  b[p++] = topic.length & 0xff;
  b.set(topic, p);
  p += topic.length;
  if (qos > 0) {
    b[p++] = messageId >> 8;
    b[p++] = messageId & 0xff;
  }
  if (v5) b[p] = 0;
  out.bytes(payload);
}

/**
 * PUBACK / PUBREC as mqtt-packet writes them: MQTT 3.1.1 has no reason
 * code; MQTT 5 omits a success one and follows any other with an empty
 * property list.
 */
export function writeAck(out: OutputBuffer, type: 4 | 5, messageId: number, reasonCode: number, v5: boolean): void {
  const long = v5 && reasonCode !== 0;
  const p = out.reserve(long ? 6 : 4);
  const b = out.target;
  b[p] = type << 4;
  b[p + 1] = long ? 4 : 2;
  b[p + 2] = messageId >> 8;
  b[p + 3] = messageId & 0xff;
  if (long) {
    b[p + 4] = reasonCode;
    b[p + 5] = 0;
  }
}
