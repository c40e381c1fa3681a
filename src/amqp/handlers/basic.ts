import { randomBytes } from "node:crypto";
import type { Outcome } from "../../core/delivery-ledger.js";
import { accessRefused } from "../../core/errors.js";
import type { Queue } from "../../core/queue.js";
import { integerValue, validateConsumerArguments } from "../../core/queue-arguments.js";
import { DIRECT_REPLY_TO } from "../../core/vhost.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import { streamConsumerOptions } from "../../core/stream/consumer-options.js";
import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import { AmqpConsumer } from "../consumer.js";
import { AmqpError, REPLY } from "../reply-codes.js";
import { queueNameOrLast } from "./queue.js";
import { session } from "./session.js";

export function handleBasicMethod(channel: Channel, method: M.AmqpMethod): void {
  switch (method.method) {
    case M.BASIC_PUBLISH:
      return publish(channel, method);
    case M.BASIC_ACK:
      return settle(channel, method.deliveryTag, method.multiple, "ack");
    case M.BASIC_NACK:
      return settle(channel, method.deliveryTag, method.multiple, method.requeue ? "requeue" : "discard");
    case M.BASIC_REJECT:
      return settle(channel, method.deliveryTag, false, method.requeue ? "requeue" : "discard");
    case M.BASIC_CONSUME:
      consume(channel, method);
      break;
    case M.BASIC_CANCEL:
      cancel(channel, method);
      break;
    case M.BASIC_GET:
      get(channel, method);
      break;
    case M.BASIC_QOS:
      qos(channel, method);
      break;
    case M.BASIC_RECOVER:
    case M.BASIC_RECOVER_ASYNC:
      // RabbitMQ implements only requeue=true: redelivery to the original consumer is not offered.
      if (!method.requeue) throw new AmqpError(REPLY.NOT_IMPLEMENTED, "requeue=false");
      channel.requeueAllUnacked();
      if (method.method === M.BASIC_RECOVER) M.writeBasicRecoverOk(channel.connection.writer, channel.id, {});
      break;
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  channel.connection.markDirty();
}

function publish(channel: Channel, method: M.BasicPublish): void {
  const { vhost, access } = session(channel);
  if (method.immediate) throw new AmqpError(REPLY.NOT_IMPLEMENTED, "immediate=true");
  access.write("exchange", method.exchange);
  const exchange = vhost.getExchange(method.exchange);
  if (exchange.internal) {
    throw new AmqpError(
      REPLY.ACCESS_REFUSED,
      `cannot publish to internal exchange '${exchange.name}' in vhost '${vhost.name}'`,
    );
  }
  access.topicWrite(exchange, method.routingKey);
  channel.connection.notePublish();
  channel.content.begin(exchange, method.routingKey, method.mandatory);
}

function settle(channel: Channel, tag: number, multiple: boolean, outcome: Outcome): void {
  if (outcome !== "ack") refuseStreamNack(channel, tag, multiple);
  if (channel.transaction) {
    for (const entry of channel.takeUnacked(tag, multiple)) channel.transaction.settlements.push({ entry, outcome });
    return;
  }
  channel.settle(tag, multiple, outcome);
}

function consume(channel: Channel, method: M.BasicConsume): void {
  if (method.queue === DIRECT_REPLY_TO) return consumeDirectReply(channel, method);
  const { vhost, access, connectionId } = session(channel);
  const queueName = queueNameOrLast(channel, method.queue);
  access.read("queue", queueName);
  const queue = vhost.useQueue(queueName, connectionId);
  const tag = method.consumerTag === "" ? generateConsumerTag() : method.consumerTag;
  if (channel.consumers.has(tag) || tag === channel.directReplyTag) {
    throw new AmqpError(REPLY.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
  }
  validateConsumerArguments(queueName, vhost.name, method.arguments);
  const priorityArg = method.arguments["x-priority"];
  const priority = priorityArg === undefined ? 0 : (integerValue(priorityArg) ?? 0);
  const consumer = new AmqpConsumer(
    channel,
    tag,
    queue,
    method.noAck,
    method.exclusive,
    priority,
    channel.consumerPrefetch,
  );
  const remote = queue.remote;
  if (remote === null) return attachConsumer(channel, method, queue, consumer);
  // Owned by another cluster node: its consumers decide exclusive use (403 before consume-ok, as on one node).
  channel.awaitRemote(remote.figures(), M.BASIC_CONSUME, (figures) => {
    if (figures.exclusiveConsumer || (method.exclusive && figures.consumers > 0))
      throw accessRefused(`queue '${queue.name}' in vhost '${vhost.name}' in exclusive use`);
    attachConsumer(channel, method, queue, consumer);
  });
}

function attachConsumer(channel: Channel, method: M.BasicConsume, queue: Queue, consumer: AmqpConsumer): void {
  const tag = consumer.tag;
  if (queue instanceof StreamQueue) {
    // rabbit_stream_queue:consume (3.10): credit comes from the prefetch, and only manual acks give it back.
    if (channel.consumerPrefetch === 0) {
      throw new AmqpError(
        REPLY.PRECONDITION_FAILED,
        `consumer prefetch count is not set for 'queue '${queue.name}' in vhost '${queue.vhost}''`,
      );
    }
    if (method.noAck) {
      throw new AmqpError(
        REPLY.NOT_IMPLEMENTED,
        `automatic acknowledgement not supported by stream queues queue '${queue.name}' in vhost '${queue.vhost}'`,
      );
    }
    queue.subscribe(consumer, streamConsumerOptions(method.arguments, Date.now()));
  } else {
    queue.addConsumer(consumer);
  }
  channel.consumers.set(tag, consumer);
  // consume-ok goes out before any delivery: the queue dispatches in a microtask.
  if (!method.noWait) M.writeBasicConsumeOk(channel.connection.writer, channel.id, { consumerTag: tag });
}

/** RabbitMQ's direct reply-to: a no-ack pseudo-consumer that receives replies without a queue. */
function consumeDirectReply(channel: Channel, method: M.BasicConsume): void {
  if (!method.noAck) throw new AmqpError(REPLY.PRECONDITION_FAILED, "reply consumer cannot acknowledge");
  if (channel.directReplyToken !== null) throw new AmqpError(REPLY.PRECONDITION_FAILED, "reply consumer already set");
  const { vhost } = session(channel);
  const tag = method.consumerTag === "" ? generateConsumerTag() : method.consumerTag;
  if (channel.consumers.has(tag)) throw new AmqpError(REPLY.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
  const token = randomBytes(18).toString("base64url");
  channel.directReplyToken = token;
  channel.directReplyTag = tag;
  vhost.directReply.set(token, (message) => channel.deliverDirectReply(message));
  if (!method.noWait) M.writeBasicConsumeOk(channel.connection.writer, channel.id, { consumerTag: tag });
}

function cancel(channel: Channel, method: M.BasicCancel): void {
  const consumer = channel.consumers.get(method.consumerTag);
  if (consumer) {
    channel.consumers.delete(method.consumerTag);
    consumer.queue.removeConsumer(consumer);
  } else if (method.consumerTag === channel.directReplyTag && channel.directReplyToken !== null) {
    channel.connection.vhostRef?.directReply.delete(channel.directReplyToken);
    channel.directReplyToken = null;
    channel.directReplyTag = null;
  }
  if (!method.noWait) M.writeBasicCancelOk(channel.connection.writer, channel.id, { consumerTag: method.consumerTag });
}

function get(channel: Channel, method: M.BasicGet): void {
  const { vhost, access, connectionId } = session(channel);
  const queueName = queueNameOrLast(channel, method.queue);
  access.read("queue", queueName);
  const queue = vhost.useQueue(queueName, connectionId);
  const remote = queue.remote;
  if (remote !== null) {
    // Another cluster node holds the messages: it answers, as RabbitMQ's queue leader does from any node.
    channel.awaitRemote(remote.get(method.noAck), M.BASIC_GET, (got) => {
      if (got !== null) channel.deliverGet(got.queued, queue, method.noAck, got.messageCount);
      else getEmpty(channel);
    });
    return;
  }
  const queued = queue.get(method.noAck);
  if (queued) channel.deliverGet(queued, queue, method.noAck);
  else getEmpty(channel);
}

function getEmpty(channel: Channel): void {
  channel.stats.getEmpty++;
  M.writeBasicGetEmpty(channel.connection.writer, channel.id, { reserved1: "" });
}

function qos(channel: Channel, method: M.BasicQos): void {
  if (method.prefetchSize !== 0) {
    throw new AmqpError(REPLY.NOT_IMPLEMENTED, `prefetch_size!=0 (${method.prefetchSize})`);
  }
  if (method.global) {
    channel.unacked.sharedPrefetch = method.prefetchCount;
  } else {
    channel.consumerPrefetch = method.prefetchCount;
    // RabbitMQ 3.10 (rabbit_channel, basic.qos global=false) also lifts any channel-wide
    // limit: observed, global=true 3 then global=false 2 lets three consumers hold 2 each.
    channel.unacked.sharedPrefetch = 0;
  }
  channel.kickConsumers();
  M.writeBasicQosOk(channel.connection.writer, channel.id, {});
}

/** RabbitMQ 3.10 closes the connection (540) on basic.nack or basic.reject of a stream delivery. */
function refuseStreamNack(channel: Channel, tag: number, multiple: boolean): void {
  for (const entry of channel.unacked.values()) {
    if (multiple ? tag !== 0 && entry.tag > tag : entry.tag !== tag) continue;
    const queue = entry.queue;
    if (queue instanceof StreamQueue) {
      throw new AmqpError(
        REPLY.NOT_IMPLEMENTED,
        `basic.nack and basic.reject not supported by stream queues queue '${queue.name}' in vhost '${queue.vhost}'`,
      );
    }
    if (!multiple) return;
  }
}

const generateConsumerTag = (): string => `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}`;
