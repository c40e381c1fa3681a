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
    const start = w.beginFrame(1, channel);
    w.u32(BASIC_DELIVER);
    w.bytes(consumerTag);
    w.u64(deliveryTag);
    w.u8(redelivered ? 1 : 0);
    w.bytes(this.address);
    w.endFrame(start);
  }
}
