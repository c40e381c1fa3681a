import { DIRECT_REPLY_TO, VHost } from "../../core/vhost.js";
import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import { AmqpError, REPLY } from "../reply-codes.js";
import { session } from "./session.js";

export function handleQueueMethod(channel: Channel, method: M.AmqpMethod): void {
  const { vhost, access, connectionId } = session(channel);
  const writer = channel.connection.writer;
  switch (method.method) {
    case M.QUEUE_DECLARE: {
      if (method.queue === DIRECT_REPLY_TO || method.queue.startsWith(`${DIRECT_REPLY_TO}.`)) {
        // RPC clients check the pseudo-queue exists before consuming from it. RabbitMQ
        // (rabbit_channel, declare_fast_reply_to) answers any declare of it, passive or not,
        // with 0 messages and 1 consumer; a rewritten address exists while its consumer does.
        const token = method.queue.slice(DIRECT_REPLY_TO.length + 1);
        if (method.queue !== DIRECT_REPLY_TO && !vhost.directReply.has(token)) {
          throw new AmqpError(REPLY.NOT_FOUND, `no queue '${method.queue}' in vhost '${vhost.name}'`);
        }
        if (!method.noWait)
          M.writeQueueDeclareOk(writer, channel.id, { queue: method.queue, messageCount: 0, consumerCount: 1 });
        break;
      }
      const serverNamed = method.queue === "";
      const name = serverNamed ? VHost.generateQueueName() : method.queue;
      if (!method.passive) {
        if (!serverNamed && name.startsWith("amq.")) {
          throw new AmqpError(REPLY.ACCESS_REFUSED, `queue name '${name}' contains reserved prefix 'amq.*'`);
        }
        access.configure("queue", name);
      }
      const declared = vhost.declareQueue(
        name,
        {
          durable: method.durable,
          exclusive: method.exclusive,
          autoDelete: method.autoDelete,
          arguments: method.arguments,
        },
        method.passive,
        connectionId,
      );
      channel.lastQueueName = name;
      if (method.noWait) break;
      const remote = declared.queue.remote;
      if (remote !== null) {
        // Owned by another cluster node: declare-ok carries its counts, as RabbitMQ's does on any node.
        channel.awaitRemote(remote.figures(), M.QUEUE_DECLARE, (figures) =>
          M.writeQueueDeclareOk(writer, channel.id, {
            queue: name,
            messageCount: figures.ready,
            consumerCount: figures.consumers,
          }),
        );
        break;
      }
      M.writeQueueDeclareOk(writer, channel.id, {
        queue: name,
        messageCount: declared.messageCount,
        consumerCount: declared.consumerCount,
      });
      break;
    }
    case M.QUEUE_BIND:
    case M.QUEUE_UNBIND: {
      const queueName = queueNameOrLast(channel, method.queue);
      access.write("queue", queueName);
      access.read("exchange", method.exchange);
      const target = vhost.exchanges.get(method.exchange);
      if (target !== undefined) access.topicRead(target, method.routingKey);
      if (method.method === M.QUEUE_BIND) {
        const queue = vhost.useQueue(queueName, connectionId);
        const exchange = vhost.getExchange(method.exchange);
        vhost.bind(exchange, queue, method.routingKey, method.arguments);
        if (!method.noWait) M.writeQueueBindOk(writer, channel.id, {});
      } else {
        unbindQueue(vhost, queueName, method, connectionId);
        M.writeQueueUnbindOk(writer, channel.id, {});
      }
      break;
    }
    case M.QUEUE_PURGE: {
      const queueName = queueNameOrLast(channel, method.queue);
      access.read("queue", queueName);
      const count = vhost.useQueue(queueName, connectionId).purge();
      if (!method.noWait) M.writeQueuePurgeOk(writer, channel.id, { messageCount: count });
      break;
    }
    case M.QUEUE_DELETE: {
      const queueName = queueNameOrLast(channel, method.queue);
      access.configure("queue", queueName);
      const count = vhost.deleteQueue(queueName, method.ifUnused, method.ifEmpty, connectionId);
      if (!method.noWait) M.writeQueueDeleteOk(writer, channel.id, { messageCount: count });
      break;
    }
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  channel.connection.markDirty();
}

/**
 * queue.unbind as RabbitMQ 3.10 answers it: the default exchange is refused
 * (403) and an exclusive queue of another connection is locked (405), but a
 * missing queue or exchange is not an error: there is nothing left to unbind.
 */
function unbindQueue(vhost: VHost, queueName: string, method: M.QueueUnbind, connectionId: number): void {
  if (method.exchange === "")
    throw new AmqpError(REPLY.ACCESS_REFUSED, "operation not permitted on the default exchange");
  const queue = vhost.queues.get(queueName);
  if (queue) vhost.assertNotLocked(queue, connectionId);
  const exchange = vhost.exchanges.get(method.exchange);
  if (queue && exchange) vhost.unbind(exchange, queue, method.routingKey, method.arguments);
}

/** AMQP's shortcut: an empty queue name means the last queue declared on this channel. */
export function queueNameOrLast(channel: Channel, name: string): string {
  if (name !== "") return name;
  if (channel.lastQueueName === null) throw new AmqpError(REPLY.NOT_FOUND, "no previously declared queue");
  return channel.lastQueueName;
}
