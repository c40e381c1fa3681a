import mqttPacket, { type Packet, type Parser } from "mqtt-packet";
import { decodeFast, TopicMemo } from "./fast-codec.js";
import { PacketSizeGuard } from "./packet-size-guard.js";

/** PUBACK's first byte (type 4, no flags) [MQTT-3.4.1]. */
const PLAIN_PUBACK = 0x40;

/** Where packets go (the connection), and what the reader needs to know of it. */
export interface MqttPacketSink {
  readonly state: "awaiting-connect" | "connected" | "closed";
  /** Known once CONNECT is accepted; decides whether a PUBLISH carries properties. */
  readonly protocolVersion: 3 | 4 | 5;
  onPacket(packet: Packet): void;
  /** A plain PUBACK (no reason code, no properties): the one packet per QoS 1 delivery, handed on without a packet object. */
  onPuback(packetId: number): void;
  /** [MQTT-4.8.0-1] a malformed packet; the reader stops being useful. */
  onParseError(error: Error): void;
  /** A packet of `size` bytes is over `limit`; nothing of it was parsed. */
  onOversized(size: number, limit: number): void;
}

export interface MqttReaderLimits {
  /** Before a CONNECT is accepted (RabbitMQ's mqtt.max_packet_size_unauthenticated). */
  readonly maxPacketSizeBeforeConnect: number;
  readonly maxPacketSize: number;
}

/**
 * Splits one connection's byte stream into packets (CONVENTIONS #3). Once
 * connected, whole PUBLISH packets are decoded in place from the socket
 * chunk (fast-codec.ts) and plain PUBACKs handed on as their packet id; any other packet, or one split across
 * chunks, goes to mqtt-packet's parser, one packet at a time, so that the
 * fast path takes over again after it. The size guard sees every byte, so
 * an oversized packet is refused from its fixed header whichever path
 * would have read it.
 */
export class MqttPacketReader {
  private readonly parser: Parser;
  private readonly sizeGuard = new PacketSizeGuard();
  /** The topic of the last PUBLISH read, kept so that a repeated one is not decoded again. */
  private readonly topics = new TopicMemo();

  constructor(
    private readonly sink: MqttPacketSink,
    private readonly limits: MqttReaderLimits,
  ) {
    this.parser = mqttPacket.parser();
    this.parser.on("packet", (packet: Packet) => sink.onPacket(packet));
    this.parser.on("error", (error: Error) => sink.onParseError(error));
  }

  push(chunk: Buffer): void {
    const sink = this.sink;
    let start = 0;
    while (start < chunk.length) {
      // The size guard at a boundary means mqtt-packet holds no partial packet either.
      if (sink.state === "connected" && this.sizeGuard.atBoundary) {
        start = this.readWhole(chunk, start);
        if (start === chunk.length || this.closed()) return;
      }
      // Until a CONNECT is accepted only RabbitMQ's unauthenticated limit applies; the packet after it may be larger.
      const limit =
        sink.state === "awaiting-connect" ? this.limits.maxPacketSizeBeforeConnect : this.limits.maxPacketSize;
      const end = this.sizeGuard.advance(chunk, start, limit, true);
      if (end > start) this.parser.parse(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
      if (this.closed()) return;
      if (this.sizeGuard.oversized > 0) return sink.onOversized(this.sizeGuard.oversized, limit);
      start = end;
    }
  }

  /** A handler may close the connection: read through the sink, not narrowed by an earlier check. */
  private closed(): boolean {
    return this.sink.state === "closed";
  }

  /**
   * Decodes the whole PUBLISH and PUBACK packets in `chunk` from `start`;
   * returns where it stopped: the chunk's end, or a packet for mqtt-packet
   * (another type, MQTT 5 properties, cut by the chunk's end, too large, malformed).
   */
  private readWhole(chunk: Buffer, start: number): number {
    const sink = this.sink;
    const v5 = sink.protocolVersion === 5;
    const limit = this.limits.maxPacketSize;
    while (start < chunk.length) {
      let remaining = 0;
      let multiplier = 1;
      let i = start + 1;
      for (;;) {
        if (i >= chunk.length || i - start > 4) return start;
        const byte = chunk[i++] as number;
        remaining += (byte & 0x7f) * multiplier;
        if (byte < 0x80) break;
        multiplier *= 128;
      }
      const end = i + remaining;
      if (end > chunk.length || end - start > limit) return start;
      if (chunk[start] === PLAIN_PUBACK && remaining === 2) {
        sink.onPuback((chunk[i] as number) * 256 + (chunk[i + 1] as number));
        if (sink.state !== "connected") return chunk.length;
        start = end;
        continue;
      }
      const packet = decodeFast(chunk, start, i - start, end, v5, this.topics);
      if (packet === null) return start;
      sink.onPacket(packet);
      if (sink.state !== "connected") return chunk.length;
      start = end;
    }
    return start;
  }
}
