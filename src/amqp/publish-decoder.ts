import type { Access } from "../core/access.js";
import type { Exchange } from "../core/exchanges/exchange.js";
import type { VHost } from "../core/vhost.js";
import type { Channel } from "./channel.js";
import { AmqpError, REPLY } from "./reply-codes.js";

/**
 * A shortstr decoded once and reused while the same bytes keep arriving:
 * publishers nearly always repeat the exchange and routing key, and decoding
 * them to fresh strings per publish was ~7 % of the publish path's CPU.
 */
class RepeatedString {
  private bytes = Buffer.allocUnsafe(256);
  private length = -1;
  value = "";

  /** Decodes buf[start, end) (at most 255 bytes), reusing the previous string when the bytes repeat. */
  read(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    const bytes = this.bytes;
    if (n === this.length) {
      let i = 0;
      while (i < n && bytes[i] === buf[start + i]) i++;
      if (i === n) return this.value;
    }
    buf.copy(bytes, 0, start, end);
    this.length = n;
    this.value = n === 0 ? "" : buf.toString("utf8", start, end);
    return this.value;
  }
}

/**
 * The per-channel basic.publish fast path: decodes the method without
 * allocating and remembers the last exchange it resolved and whether the
 * user may write to it, so that a stream of publishes to one exchange costs
 * neither a permission regex nor a map lookup per message. The checks are
 * still those of RabbitMQ's rabbit_channel, in its order (immediate,
 * write permission, exchange exists, not internal); the cache only skips
 * repeating them while nothing they depend on changed:
 * - the exchange object is reused until it is deleted (a re-declared
 *   exchange of the same name is a new object, found again by name);
 * - the permission verdict is reused while the user registry's permissions
 *   version is the one it was granted under (every set/clear bumps it).
 */
export class PublishDecoder {
  private readonly exchangeName = new RepeatedString();
  private readonly routingKeyName = new RepeatedString();
  routingKey = "";
  mandatory = false;

  private exchange: Exchange | null = null;
  private grantedName: string | null = null;
  private grantedVersion = -1;

  /**
   * Decodes the basic.publish arguments of buf[start, end) (the whole method
   * frame payload). False when they are malformed: the caller then takes the
   * generic decoder, which raises the exact error.
   */
  decode(buf: Buffer, start: number, end: number): boolean {
    let p = start + 4 + 2; // method id, reserved short
    if (p + 1 > end) return false;
    const n1 = p + 1 + buf[p]!;
    if (n1 + 1 > end) return false;
    this.exchangeName.read(buf, p + 1, n1);
    p = n1;
    const n2 = p + 1 + buf[p]!;
    if (n2 + 1 !== end) return false;
    this.routingKey = this.routingKeyName.read(buf, p + 1, n2);
    const bits = buf[n2]!;
    if ((bits & 2) !== 0) throw new AmqpError(REPLY.NOT_IMPLEMENTED, "immediate=true");
    this.mandatory = (bits & 1) !== 0;
    return true;
  }

  /** The exchange the decoded publish targets, after RabbitMQ's checks (see the class comment). */
  resolve(channel: Channel): Exchange {
    const connection = channel.connection;
    const name = this.exchangeName.value;
    const version = connection.broker.users.permissionsVersion;
    if (this.grantedName !== name || this.grantedVersion !== version) {
      this.grantedName = null;
      (connection.access as Access).write("exchange", name);
      this.grantedName = name;
      this.grantedVersion = version;
    }
    let exchange = this.exchange;
    if (exchange === null || exchange.deleted || exchange.name !== name) {
      this.exchange = null;
      exchange = (connection.vhostRef as VHost).getExchange(name);
      if (exchange.internal) {
        throw new AmqpError(
          REPLY.ACCESS_REFUSED,
          `cannot publish to internal exchange '${exchange.name}' in vhost '${connection.vhost}'`,
        );
      }
      this.exchange = exchange;
    }
    if (exchange.type === "topic") (connection.access as Access).topicWrite(exchange, this.routingKey);
    return exchange;
  }
}
