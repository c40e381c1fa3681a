import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import { AmqpError, REPLY } from "../reply-codes.js";
import { session } from "./session.js";

export function handleExchangeMethod(channel: Channel, method: M.AmqpMethod): void {
  const { vhost, access } = session(channel);
  const writer = channel.connection.writer;
  switch (method.method) {
    case M.EXCHANGE_DECLARE: {
      if (!method.passive) {
        access.configure("exchange", method.exchange);
        const ae = method.arguments["alternate-exchange"];
        // RabbitMQ: using an alternate exchange needs write on it and read on the declared one.
        if (typeof ae === "string") {
          access.write("exchange", ae);
          access.read("exchange", method.exchange);
        }
      }
      vhost.declareExchange(
        method.exchange,
        {
          type: method.type,
          durable: method.durable,
          autoDelete: method.autoDelete,
          internal: method.internal,
          arguments: method.arguments,
        },
        method.passive,
      );
      if (!method.noWait) M.writeExchangeDeclareOk(writer, channel.id, {});
      break;
    }
    case M.EXCHANGE_DELETE:
      access.configure("exchange", method.exchange);
      vhost.deleteExchange(method.exchange, method.ifUnused);
      if (!method.noWait) M.writeExchangeDeleteOk(writer, channel.id, {});
      break;
    case M.EXCHANGE_BIND:
    case M.EXCHANGE_UNBIND: {
      access.write("exchange", method.destination);
      access.read("exchange", method.source);
      // rabbit_channel:binding_action checks topic read on the source, when it exists, before the lookups.
      const topicSource = vhost.exchanges.get(method.source);
      if (topicSource !== undefined) access.topicRead(topicSource, method.routingKey);
      const destination = vhost.getExchange(method.destination);
      const source = vhost.getExchange(method.source);
      if (method.method === M.EXCHANGE_BIND) {
        vhost.bind(source, destination, method.routingKey, method.arguments);
        if (!method.noWait) M.writeExchangeBindOk(writer, channel.id, {});
      } else {
        vhost.unbind(source, destination, method.routingKey, method.arguments);
        if (!method.noWait) M.writeExchangeUnbindOk(writer, channel.id, {});
      }
      break;
    }
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  channel.connection.markDirty();
}
