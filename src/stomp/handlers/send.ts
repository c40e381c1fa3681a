import { accessRefused } from "../../core/errors.js";
import { Message, type MessageProperties } from "../../core/message.js";
import { VHost } from "../../core/vhost.js";
import type { Access } from "../../core/access.js";
import type { StompConnection } from "../connection.js";
import { notValidFor } from "../destinations.js";
import { QUEUE_DEFAULTS, ensureQueue, queueDeclaration, redeclareQueue } from "../endpoints.js";
import { StompError, missingHeader } from "../errors.js";
import type { StompFrame } from "../frame.js";
import type { SendPlan } from "../send-cache.js";
import { StompSubscription } from "../subscription.js";
import { holdForTransaction } from "./session.js";

/** SEND: publish to the exchange and routing key the destination names (rabbit_stomp_processor, "SEND"). */
export function handleSend(connection: StompConnection, frame: StompFrame): void {
  const headers = frame.headers;
  // A head seen on the last SEND passed the checks below then; a frame in a transaction never has a plan.
  let plan = connection.sendCache.planFor(headers);
  if (plan === null) {
    const raw = headers.get("destination");
    if (raw === undefined) throw missingHeader("SEND", "destination");
    if (headers.has("message-id")) throw new StompError("Invalid header", "'message-id' is not allowed on 'SEND'.\n");
    if (holdForTransaction(connection, frame)) return;
    plan = connection.sendCache.makePlan(headers, raw);
  }
  const vhost = connection.vhostRef as VHost;
  const access = connection.access as Access;
  const destination = plan.destination;
  let exchangeName: string;
  let routingKey: string;
  switch (destination.kind) {
    case "temp_queue":
      throw notValidFor(headers.get("destination") as string, "SEND");
    case "queue": {
      // RabbitMQ declares the queue on every SEND to /queue/<name>.
      const known = connection.sendCache.knownQueue(destination.name, plan.signature, vhost);
      if (known !== null) redeclareQueue(connection, known);
      else {
        const queue = ensureQueue(connection, destination.name, queueDeclaration(headers, QUEUE_DEFAULTS));
        connection.sendCache.remember(destination.name, plan.signature, vhost, queue);
      }
      exchangeName = "";
      routingKey = destination.name;
      break;
    }
    case "amqqueue":
    case "reply_queue":
      exchangeName = "";
      routingKey = destination.name;
      break;
    case "topic":
      exchangeName = "amq.topic";
      routingKey = destination.name;
      break;
    case "exchange":
      exchangeName = destination.name;
      routingKey = destination.pattern ?? "";
      break;
  }
  access.write("exchange", exchangeName);
  const exchange = vhost.getExchange(exchangeName);
  if (exchange.internal) {
    throw StompError.fromCore(
      accessRefused(`cannot publish to internal exchange '${exchangeName}' in vhost '${vhost.name}'`),
    );
  }
  access.topicWrite(exchange, routingKey);
  const properties = messageProperties(connection, plan);
  connection.notePublished(vhost.publish(exchange, new Message(exchangeName, routingKey, properties, frame.body)));
}

/** The plan's shared properties, or a copy when this session's temp queue must be named in reply-to. */
function messageProperties(connection: StompConnection, plan: SendPlan): MessageProperties {
  const properties = plan.properties;
  if (properties.userId !== undefined && properties.userId !== connection.user) {
    throw new StompError(
      "precondition_failed",
      `PRECONDITION_FAILED - user_id property set to '${properties.userId}' but authenticated user was '${connection.user}'`,
      true,
    );
  }
  if (properties.replyTo === undefined || !properties.replyTo.startsWith("/temp-queue/")) return properties;
  return { ...properties, replyTo: `/reply-queue/${tempQueue(connection, properties.replyTo).name}` };
}

/**
 * A reply-to of /temp-queue/<name> makes (once per session) an exclusive
 * queue that this session consumes without acks; replies sent to it arrive
 * as MESSAGE frames with subscription "/temp-queue/<name>", as in RabbitMQ.
 */
function tempQueue(connection: StompConnection, replyTo: string): { name: string } {
  const existing = connection.tempQueues.get(replyTo);
  if (existing && !existing.deleted) return existing;
  const name = VHost.generateQueueName();
  const queue = ensureQueue(connection, name, { durable: false, autoDelete: true, exclusive: true, arguments: {} });
  const tag = `T_${replyTo}`;
  const subscription = new StompSubscription(connection, tag, replyTo, queue, "auto", 0, false);
  queue.addConsumer(subscription);
  connection.subscriptions.set(tag, subscription);
  connection.tempQueues.set(replyTo, queue);
  return queue;
}
