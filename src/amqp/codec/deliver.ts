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

/** Runs of bytes up to this long are copied with a loop: TypedArray#set's native call costs more for them. */
const SHORT_COPY = 64;

function copyInto(target: Buffer, at: number, source: Buffer, length: number): void {
  if (length <= SHORT_COPY) for (let i = 0; i < length; i++) target[at + i] = source[i]!;
  else target.set(length === source.length ? source : source.subarray(0, length), at);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY = Buffer.alloc(0);

/**
 * basic.deliver + content header + body frames to one consumer, written
 * into the connection's output buffer with one reservation (the delivery
 * path). Everything but the delivery tag, the redelivered flag, the body
 * size and the body is the same from one delivery to the next while the
 * messages keep their exchange, routing key and property bytes — a queue's
 * messages nearly always do, and the publish path hands over the same
 * string and Buffer objects, so the check is a few pointer comparisons —
 * so those frames are kept as one template, copied with one call and
 * patched: the method frame (type, channel, size, class and method, the
 * consumer tag, the tag and flag left blank, exchange, routing key), the
 * whole content header frame with the body size left blank, and the body
 * frame's type and channel. A body larger than one frame gets its body
 * frames from the generic writer.
 */
export class DeliverTemplate {
  private readonly consumerTag: Buffer;
  private exchange: string | null = null;
  private routingKey: string | null = null;
  private properties: Buffer = EMPTY;
  private bytes: Buffer = EMPTY;
  /** Offsets in `bytes`: the delivery tag (the redelivered octet follows) and the header's body size. */
  private tagAt = 0;
  private bodySizeAt = 0;

  constructor(
    private readonly channel: number,
    consumerTag: string,
  ) {
    this.consumerTag = encodeShortstr(consumerTag);
  }

  private build(exchange: string, routingKey: string, properties: Buffer): void {
    const e = encodeShortstr(exchange);
    const k = encodeShortstr(routingKey);
    const tag = this.consumerTag;
    const np = properties.length;
    const methodPayload = 4 + tag.length + 8 + 1 + e.length + k.length;
    const out = Buffer.alloc(FRAME_OVERHEAD + methodPayload + FRAME_OVERHEAD + 12 + np + 3);
    const hi = this.channel >>> 8;
    const lo = this.channel & 0xff;
    out[0] = FRAME_METHOD;
    out[1] = hi;
    out[2] = lo;
    putU32(out, 3, methodPayload);
    putU32(out, 7, BASIC_DELIVER);
    let p = 11 + tag.copy(out, 11);
    this.tagAt = p;
    p += 9; // delivery tag, redelivered
    p += e.copy(out, p);
    p += k.copy(out, p);
    out[p++] = 0xce;
    out[p] = FRAME_HEADER;
    out[p + 1] = hi;
    out[p + 2] = lo;
    putU32(out, p + 3, 12 + np);
    out[p + 8] = 60; // class; weight 0
    this.bodySizeAt = p + 11;
    p += 19;
    p += properties.copy(out, p);
    out[p++] = 0xce;
    out[p] = FRAME_BODY;
    out[p + 1] = hi;
    out[p + 2] = lo;
    this.bytes = out;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.properties = properties;
  }

  write(
    w: BufferWriter,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer,
    frameMax: number,
  ): void {
    if (exchange !== this.exchange || routingKey !== this.routingKey) this.build(exchange, routingKey, properties);
    else if (properties !== this.properties) {
      // Another publisher's copy of the same bytes keeps the template.
      if (sameBytes(properties, this.properties)) this.properties = properties;
      else this.build(exchange, routingKey, properties);
    }
    const bytes = this.bytes;
    const n = body.length;
    const oneBodyFrame = n > 0 && (frameMax === 0 || n <= frameMax - FRAME_OVERHEAD);
    // Without a body frame of its own here, the template's last three octets (the body frame's start) are left out.
    const head = oneBodyFrame ? bytes.length : bytes.length - 3;
    const p = w.reserve(oneBodyFrame ? head + 4 + n + 1 : head);
    const b = w.target;
    copyInto(b, p, bytes, head);
    let q = p + this.tagAt;
    putU32(b, q, Math.floor(deliveryTag / 0x100000000));
    putU32(b, q + 4, deliveryTag >>> 0);
    b[q + 8] = redelivered ? 1 : 0;
    q = p + this.bodySizeAt;
    putU32(b, q, Math.floor(n / 0x100000000));
    putU32(b, q + 4, n >>> 0);
    if (!oneBodyFrame) {
      if (n > 0) writeBodyFrames(w, this.channel, body, frameMax);
      return;
    }
    q = p + head;
    putU32(b, q, n);
    copyInto(b, q + 4, body, n);
    b[q + 4 + n] = 0xce;
  }
}
