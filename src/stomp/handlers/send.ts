import { accessRefused } from "../../core/errors.js";
import { Message } from "../../core/message.js";
import { VHost } from "../../core/vhost.js";
import type { StompConnection } from "../connection.js";
import { notValidFor } from "../destinations.js";
import { QUEUE_DEFAULTS, ensureQueue, queueDeclaration, redeclareQueue } from "../endpoints.js";
import { StompError, missingHeader } from "../errors.js";
import type { StompFrame } from "../frame.js";
import { propertiesFromHeaders } from "../properties.js";
import { declarationSignature } from "../send-cache.js";
import { StompSubscription } from "../subscription.js";
import { holdForTransaction, session } from "./session.js";

/** SEND: publish to the exchange and routing key the destination names (rabbit_stomp_processor, "SEND"). */
export function handleSend(connection: StompConnection, frame: StompFrame): void {
  const raw = frame.headers.get("destination");
  if (raw === undefined) throw missingHeader("SEND", "destination");
  if (frame.headers.has("message-id"))
    throw new StompError("Invalid header", "'message-id' is not allowed on 'SEND'.\n");
  if (holdForTransaction(connection, frame)) return;
  const destination = connection.sendCache.destinationOf(raw);
  const { vhost, access } = session(connection);
  let exchangeName: string;
  let routingKey: string;
  switch (destination.kind) {
    case "temp_queue":
      throw notValidFor(raw, "SEND");
    case "queue": {
      // RabbitMQ declares the queue on every SEND to /queue/<name>.
      const signature = declarationSignature(frame.headers);
      const known = connection.sendCache.knownQueue(destination.name, signature, vhost);
      if (known !== null) redeclareQueue(connection, known);
      else {
        const queue = ensureQueue(connection, destination.name, queueDeclaration(frame.headers, QUEUE_DEFAULTS));
        connection.sendCache.remember(destination.name, signature, vhost, queue);
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
  const properties = propertiesFromHeaders(frame.headers);
  if (properties.userId !== undefined && properties.userId !== connection.user) {
    throw new StompError(
      "precondition_failed",
      `PRECONDITION_FAILED - user_id property set to '${properties.userId}' but authenticated user was '${connection.user}'`,
      true,
    );
  }
  if (properties.replyTo !== undefined && properties.replyTo.startsWith("/temp-queue/")) {
    properties.replyTo = `/reply-queue/${tempQueue(connection, properties.replyTo).name}`;
  }
  connection.notePublished(vhost.publish(exchange, new Message(exchangeName, routingKey, properties, frame.body)));
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
