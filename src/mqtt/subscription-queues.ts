import type { Access } from "../core/access.js";
import type { Queue } from "../core/queue.js";
import { MQTT_EXCHANGE } from "./message-mapping.js";
import type { SessionRegistry } from "./session-registry.js";
import type { MqttSession } from "./session.js";
import { sharedQueueName, subscriptionQueueName, type Subscription } from "./subscription.js";
import { topicToRoutingKey } from "./topics.js";

/** The queue a subscription's messages wait in. */
export function queueNameFor(session: MqttSession, subscription: Pick<Subscription, "group" | "qos">): string {
  return subscription.group === null
    ? subscriptionQueueName(session.clientId, subscription.qos)
    : sharedQueueName(subscription.group, subscription.qos);
}

/**
 * Declares the subscription's queue and binds it to amq.topic, checking
 * the permissions RabbitMQ checks for queue.declare + queue.bind
 * (configure and write on the queue, read on the exchange).
 */
export function bindSubscription(
  registry: SessionRegistry,
  session: MqttSession,
  access: Access,
  connectionId: number,
  subscription: Subscription,
): Queue {
  const vhost = session.vhost;
  const name = queueNameFor(session, subscription);
  const routingKey = topicToRoutingKey(subscription.filter);
  access.configure("queue", name);
  access.write("queue", name);
  access.read("exchange", MQTT_EXCHANGE);
  const exchange = vhost.getExchange(MQTT_EXCHANGE);
  access.topicRead(exchange, routingKey);
  const queue = sessionQueue(session, name) ?? declare(session, name, subscription, connectionId);
  vhost.bind(exchange, queue, routingKey, {});
  if (subscription.group !== null) {
    const key = sharedKey(`${vhost.name}\u0000${name}`, routingKey);
    registry.sharedBindingUsers.set(key, (registry.sharedBindingUsers.get(key) ?? 0) + 1);
  }
  addToSession(session, subscription, queue);
  registry.changed(session);
  return queue;
}

/**
 * The session's own queue of that name, when it has one: it serves every
 * later subscription at that QoS as it is. A session's expiry may change on
 * every CONNECT and DISCONNECT (MQTT 5 3.1.2.11.2, 3.14.2.2.2), so declaring
 * it again with the durability of the current expiry would be refused as
 * inequivalent ('durable'), and the session's timer, not the queue, decides
 * when it goes (SessionRegistry.detached/expireIn).
 */
function sessionQueue(session: MqttSession, name: string): Queue | null {
  const queue = session.queues.get(name);
  return queue !== undefined && !queue.deleted ? queue : null;
}

/** A new queue is durable when the session outlives its connection (or for a shared group, which outlives any member). */
function declare(session: MqttSession, name: string, subscription: Subscription, connectionId: number): Queue {
  const durable = session.expirySeconds > 0 || subscription.group !== null;
  return session.vhost.declareQueue(
    name,
    { durable, exclusive: false, autoDelete: false, arguments: {} },
    false,
    connectionId,
  ).queue;
}

/** A subscription recovered after a restart, whose queue and binding the store already restored. */
export function adoptSubscription(
  registry: SessionRegistry,
  session: MqttSession,
  subscription: Subscription,
  queue: Queue,
): void {
  addToSession(session, subscription, queue);
  if (subscription.group !== null) {
    const key = sharedKey(`${session.vhost.name}\u0000${queue.name}`, topicToRoutingKey(subscription.filter));
    registry.sharedBindingUsers.set(key, (registry.sharedBindingUsers.get(key) ?? 0) + 1);
  }
}

/** Removes a subscription; its queue goes when no subscription of the session (or group) uses it. */
export function releaseSubscription(registry: SessionRegistry, session: MqttSession, key: string): boolean {
  const subscription = session.subscriptions.get(key);
  if (!subscription) return false;
  const vhost = session.vhost;
  const name = queueNameFor(session, subscription);
  session.subscriptions.delete(key);
  const ofQueue = session.queueSubscriptions.get(name);
  ofQueue?.delete(key);
  if (ofQueue?.size === 0) session.queueSubscriptions.delete(name);
  registry.changed(session);
  const queue = session.queues.get(name);
  if (!queue) return true;
  const routingKey = topicToRoutingKey(subscription.filter);
  if (subscription.group !== null) {
    const shared = sharedKey(`${vhost.name}\u0000${name}`, routingKey);
    const users = (registry.sharedBindingUsers.get(shared) ?? 1) - 1;
    if (users > 0) registry.sharedBindingUsers.set(shared, users);
    else {
      registry.sharedBindingUsers.delete(shared);
      if (!queue.deleted) vhost.unbind(vhost.getExchange(MQTT_EXCHANGE), queue, routingKey, {});
    }
  } else if (!queue.deleted && !usesBinding(session, name, routingKey)) {
    vhost.unbind(vhost.getExchange(MQTT_EXCHANGE), queue, routingKey, {});
  }
  if (!usesQueue(session, name)) {
    session.connection?.detachQueue(queue);
    session.queues.delete(name);
    const sharedInUse = subscription.group !== null && queue.consumerCount > 0;
    if (!sharedInUse && !hasBindings(registry, `${vhost.name}\u0000${name}`)) vhost.removeQueue(queue);
  }
  return true;
}

function addToSession(session: MqttSession, subscription: Subscription, queue: Queue): void {
  session.queues.set(queue.name, queue);
  session.subscriptions.set(subscription.key, subscription);
  let ofQueue = session.queueSubscriptions.get(queue.name);
  if (ofQueue === undefined) session.queueSubscriptions.set(queue.name, (ofQueue = new Map<string, Subscription>()));
  ofQueue.set(subscription.key, subscription);
}

function usesQueue(session: MqttSession, name: string): boolean {
  return session.queueSubscriptions.has(name);
}

function usesBinding(session: MqttSession, name: string, routingKey: string): boolean {
  for (const s of session.queueSubscriptions.get(name)?.values() ?? [])
    if (topicToRoutingKey(s.filter) === routingKey) return true;
  return false;
}

function hasBindings(registry: SessionRegistry, name: string): boolean {
  const prefix = `${name}\u0000`;
  for (const key of registry.sharedBindingUsers.keys()) if (key.startsWith(prefix)) return true;
  return false;
}

const sharedKey = (queueName: string, routingKey: string): string => `${queueName}\u0000${routingKey}`;
