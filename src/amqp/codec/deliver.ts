import type { BufferWriter } from "./buffer-writer.js";
import { AmqpCodecError } from "./errors.js";
import { BASIC_DELIVER } from "./generated.js";

/** An AMQP shortstr (length octet + UTF-8 bytes), encoded once to be copied into many frames. */
export function encodeShortstr(s: string): Buffer {
  const n = Buffer.byteLength(s);
  if (n > 255) throw new AmqpCodecError(`shortstr too long (${n} bytes > 255)`);
  const out = Buffer.allocUnsafe(n + 1);
  out[0] = n;
  out.write(s, 1, "utf8");
  return out;
}

/**
 * basic.deliver method frames for one channel. The generic writer
 * (generated.ts) re-encodes the consumer tag, exchange and routing key of
 * every delivery; here the consumer tag comes pre-encoded (AmqpConsumer
 * keeps it) and the exchange + routing-key pair is encoded once and copied
 * while deliveries keep naming the same pair — a queue's messages nearly
 * always share it, and the publish decoder even hands over the same string
 * objects, so the check is a pointer comparison.
 */
export class DeliverEncoder {
  private exchange: string | null = null;
  private routingKey: string | null = null;
  private address: Buffer = Buffer.alloc(0);

  write(
    w: BufferWriter,
    channel: number,
    consumerTag: Buffer,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
  ): void {
    if (exchange !== this.exchange || routingKey !== this.routingKey) {
      const e = encodeShortstr(exchange);
      const k = encodeShortstr(routingKey);
      this.address = Buffer.concat([e, k]);
      this.exchange = exchange;
      this.routingKey = routingKey;
    }
    // One reservation filled with plain stores: the per-field writer calls were the cost here.
    const tagBytes = consumerTag.length;
    const address = this.address;
    const payload = 4 + tagBytes + 8 + 1 + address.length;
    let p = w.reserve(payload + 8);
    const b = w.target;
    b[p] = 1; // method frame
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel;
    b.writeUInt32BE(payload, p + 3);
    b.writeUInt32BE(BASIC_DELIVER, p + 7);
    p += 11;
    for (let i = 0; i < tagBytes; i++) b[p + i] = consumerTag[i]!;
    p += tagBytes;
    b.writeUInt32BE(Math.floor(deliveryTag / 0x100000000), p);
    b.writeUInt32BE(deliveryTag >>> 0, p + 4);
    b[p + 8] = redelivered ? 1 : 0;
    p += 9;
    for (let i = 0; i < address.length; i++) b[p + i] = address[i]!;
    b[p + address.length] = 0xce;
  }
}
