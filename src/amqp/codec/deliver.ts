import type { BufferWriter } from "./buffer-writer.js";
import { AmqpCodecError } from "./errors.js";
import { BASIC_DELIVER, FRAME_BODY, FRAME_HEADER, FRAME_METHOD } from "./generated.js";
import { FRAME_OVERHEAD, putU32, writeBodyFrames } from "./properties.js";

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
 * The bytes every basic.deliver to one consumer starts with: the method
 * frame's type and channel, four octets where the payload size goes, the
 * class and method ids and the consumer tag as a shortstr. Made once per
 * consumer and copied into each delivery.
 */
export function deliverTemplate(channel: number, consumerTag: string): Buffer {
  const tag = encodeShortstr(consumerTag);
  const out = Buffer.alloc(11 + tag.length);
  out[0] = FRAME_METHOD;
  out[1] = channel >>> 8;
  out[2] = channel;
  out.writeUInt32BE(BASIC_DELIVER, 7);
  tag.copy(out, 11);
  return out;
}

/** Runs of bytes up to this long are copied with a loop: TypedArray#set's native call costs more for them. */
const SHORT_COPY = 64;

function copyInto(target: Buffer, at: number, source: Buffer): void {
  const n = source.length;
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) target[at + i] = source[i]!;
  else target.set(source, at);
}

/**
 * basic.deliver + content header + body frames for one channel, written
 * into the connection's output buffer with one reservation and plain
 * stores (the delivery path): the consumer's template (deliverTemplate),
 * the exchange + routing-key pair encoded once and copied while deliveries
 * keep naming the same pair (a queue's messages nearly always share it,
 * and the publish decoder hands over the same string objects, so the check
 * is a pointer comparison), and the property bytes the message arrived
 * with. A body larger than one frame gets its body frames from the
 * generic writer.
 */
export class DeliverEncoder {
  private exchange: string | null = null;
  private routingKey: string | null = null;
  private address: Buffer = Buffer.alloc(0);

  private addressOf(exchange: string, routingKey: string): Buffer {
    if (exchange !== this.exchange || routingKey !== this.routingKey) {
      const e = encodeShortstr(exchange);
      const k = encodeShortstr(routingKey);
      this.address = Buffer.concat([e, k]);
      this.exchange = exchange;
      this.routingKey = routingKey;
    }
    return this.address;
  }

  write(
    w: BufferWriter,
    template: Buffer,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer,
    frameMax: number,
  ): void {
    const address = this.addressOf(exchange, routingKey);
    const n = body.length;
    const np = properties.length;
    const methodPayload = template.length - 7 + 8 + 1 + address.length;
    const headerPayload = 12 + np;
    const oneBodyFrame = frameMax === 0 || n <= frameMax - FRAME_OVERHEAD;
    const bodyBytes = n > 0 && oneBodyFrame ? FRAME_OVERHEAD + n : 0;
    let p = w.reserve(FRAME_OVERHEAD + methodPayload + FRAME_OVERHEAD + headerPayload + bodyBytes);
    const b = w.target;
    const channelHi = template[1]!;
    const channelLo = template[2]!;
    // method frame
    copyInto(b, p, template);
    putU32(b, p + 3, methodPayload);
    p += template.length;
    putU32(b, p, Math.floor(deliveryTag / 0x100000000));
    putU32(b, p + 4, deliveryTag >>> 0);
    b[p + 8] = redelivered ? 1 : 0;
    p += 9;
    copyInto(b, p, address);
    p += address.length;
    b[p] = 0xce;
    // content header frame: class 60, weight 0, body size, the property bytes
    b[p + 1] = FRAME_HEADER;
    b[p + 2] = channelHi;
    b[p + 3] = channelLo;
    putU32(b, p + 4, headerPayload);
    b[p + 8] = 0;
    b[p + 9] = 60;
    b[p + 10] = 0;
    b[p + 11] = 0;
    putU32(b, p + 12, Math.floor(n / 0x100000000));
    putU32(b, p + 16, n >>> 0);
    p += 20;
    copyInto(b, p, properties);
    p += np;
    b[p] = 0xce;
    if (bodyBytes === 0) {
      if (n > 0) writeBodyFrames(w, (channelHi << 8) | channelLo, body, frameMax);
      return;
    }
    b[p + 1] = FRAME_BODY;
    b[p + 2] = channelHi;
    b[p + 3] = channelLo;
    putU32(b, p + 4, n);
    p += 8;
    copyInto(b, p, body);
    b[p + n] = 0xce;
  }
}
