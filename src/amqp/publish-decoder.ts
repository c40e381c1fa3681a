import type { Access } from "../core/access.js";
import type { Exchange } from "../core/exchanges/exchange.js";
import type { VHost } from "../core/vhost.js";
import type { Permissions } from "../auth/permissions.js";
import type { Channel } from "./channel.js";
import { AmqpError, REPLY } from "./reply-codes.js";

/** basic.publish's class and method ids as they open the method frame: 60, 40. */
const PUBLISH_ID_0 = 0;
const PUBLISH_ID_1 = 60;
const PUBLISH_ID_2 = 0;
const PUBLISH_ID_3 = 40;

/** True when the method frame buf[start, end) is a basic.publish. */
export function isBasicPublish(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start >= 4 &&
    buf[start + 3] === PUBLISH_ID_3 &&
    buf[start + 1] === PUBLISH_ID_1 &&
    buf[start] === PUBLISH_ID_0 &&
    buf[start + 2] === PUBLISH_ID_2
  );
}

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
 * - the permission verdict is reused while the user's permission record is
 *   the same object (UserRegistry replaces it on every set/clear).
 */
export class PublishDecoder {
  private readonly exchangeName = new RepeatedString();
  private readonly routingKeyName = new RepeatedString();
  routingKey = "";
  mandatory = false;

  private exchange: Exchange | null = null;
  private grantedName: string | null = null;
  private grantedBy: Readonly<Permissions> | undefined = undefined;

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
    const perms = connection.broker.users.getPermissions(connection.user, connection.vhost);
    if (this.grantedName !== name || this.grantedBy !== perms || perms === undefined) {
      this.grantedName = null;
      (connection.access as Access).write("exchange", name);
      this.grantedName = name;
      this.grantedBy = perms;
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
