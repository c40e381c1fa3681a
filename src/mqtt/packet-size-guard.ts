/**
 * Follows MQTT packet boundaries in the byte stream ahead of the parser,
 * which buffers a packet until it is whole: from each fixed header (type
 * byte and Remaining Length [MQTT-1.5.5]) it knows a packet's size before its
 * body arrives, so an oversized packet is refused after its first bytes
 * instead of being buffered (a 120 MB CONNECT held 113 MB per connection
 * before any login). A state machine over the chunks; no copies.
 */
export class PacketSizeGuard {
  /** Size of the packet that broke the limit, once one did; 0 before. */
  oversized = 0;
  /** Body bytes of the current packet not seen yet. */
  private bodyLeft = 0;
  /** Fixed-header bytes of the current packet seen so far; 0 at a packet boundary. */
  private headerLength = 0;
  private remainingLength = 0;
  /** A Remaining Length of more than four bytes: the parser reports the malformed packet; stop following. */
  private lost = false;

  /** Between packets: everything seen so far was whole packets (so the parser holds nothing either). */
  get atBoundary(): boolean {
    return this.bodyLeft === 0 && this.headerLength === 0 && !this.lost;
  }

  /**
   * Advances over `chunk` from `from` and returns how far the parser may read:
   * the end of the chunk; with `onePacket`, the end of the first packet that
   * ends in it (the limit may change once the parser has handled it); or the
   * start of a packet larger than `limit`, whose size is then in `oversized`.
   */
  advance(chunk: Buffer, from: number, limit: number, onePacket: boolean): number {
    if (this.lost) return chunk.length;
    let i = from;
    let packetStart = from;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= n;
        i += n;
        if (this.bodyLeft === 0 && onePacket) return i;
        continue;
      }
      const byte = chunk[i] as number;
      i++;
      if (this.headerLength === 0) {
        packetStart = i - 1;
        this.headerLength = 1;
        this.remainingLength = 0;
        continue;
      }
      this.remainingLength += (byte & 0x7f) * 128 ** (this.headerLength - 1);
      this.headerLength++;
      if (byte & 0x80) {
        if (this.headerLength === 5) {
          this.lost = true;
          return chunk.length;
        }
        continue;
      }
      const size = this.headerLength + this.remainingLength;
      this.headerLength = 0;
      if (size > limit) {
        this.oversized = size;
        return packetStart;
      }
      this.bodyLeft = this.remainingLength;
      if (this.bodyLeft === 0 && onePacket) return i;
    }
    return chunk.length;
  }
}
