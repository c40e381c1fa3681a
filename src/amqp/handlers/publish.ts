import { confirmWhenDurable } from "../../core/durable-reply.js";
import { parseExpiration } from "../../core/queue-features/expiration.js";
import { DIRECT_REPLY_TO } from "../../core/vhost.js";
import type { Queue } from "../../core/queue.js";
import type { VHost } from "../../core/vhost.js";
import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import type { Exchange } from "../../core/exchanges/exchange.js";
import type { Message } from "../../core/message.js";
import { AmqpError, REPLY } from "../reply-codes.js";

/** A publish whose content is complete: checks that need the properties, then route (or hold for tx). */
export function finishPublish(channel: Channel, exchange: Exchange, mandatory: boolean, message: Message): void {
  const connection = channel.connection;
  const properties = message.properties;
  if (properties.userId !== undefined && properties.userId !== connection.user) {
    throw new AmqpError(
      REPLY.PRECONDITION_FAILED,
      `user_id property set to '${properties.userId}' but authenticated user was '${connection.user}'`,
    );
  }
  parseExpiration(properties.expiration); // RabbitMQ refuses a malformed expiration with 406 on publish
  if (properties.replyTo === DIRECT_REPLY_TO) {
    if (channel.directReplyToken === null) {
      throw new AmqpError(REPLY.PRECONDITION_FAILED, "fast reply consumer does not exist");
    }
    message.setProperties({ ...properties, replyTo: `${DIRECT_REPLY_TO}.${channel.directReplyToken}` });
  }
  if (channel.transaction) {
    channel.transaction.publishes.push({ exchange, routingKey: message.routingKey, mandatory, message });
    return;
  }
  const seq = channel.confirmMode ? ++channel.publishSeq : 0;
  const rejected = routePublish(channel, exchange, mandatory, message);
  // x-overflow reject-publish: the publisher learns of the refusal through a nack (RabbitMQ).
  if (seq !== 0) {
    if (rejected) channel.confirmNack(seq);
    else confirmWhenDurable(connection.broker.durability, channel, seq, confirm, nack);
  }
}

const confirm = (channel: Channel, seq: number): void => channel.confirm(seq);
const nack = (channel: Channel, seq: number): void => channel.confirmNack(seq);

/** Routes a publish; true when a queue refused it (x-overflow reject-publish). */
export function routePublish(channel: Channel, exchange: Exchange, mandatory: boolean, message: Message): boolean {
  const vhost = channel.connection.vhostRef as VHost;
  let routed: boolean | null = null;
  if (exchange === vhost.defaultExchange) routed = vhost.routeDirectReply(message.routingKey, message);
  let rejected = false;
  channel.stats.publish++;
  if (routed === null) {
    const queues = vhost.publish(exchange, message);
    routed = queues.length > 0;
    rejected = vhost.lastPublishRejected;
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i] as Queue;
      if (queue.overloaded) channel.connection.throttleBy(queue);
    }
  }
  if (!routed) mandatory ? channel.stats.returnUnroutable++ : channel.stats.dropUnroutable++;
  if (!routed && mandatory) {
    M.writeBasicReturn(channel.connection.writer, channel.id, {
      replyCode: REPLY.NO_ROUTE,
      replyText: "NO_ROUTE",
      exchange: message.exchange,
      routingKey: message.routingKey,
    });
    channel.connection.writeContent(channel.id, message);
    channel.connection.markDirty();
  }
  return rejected;
}
