import { checkPermission } from "../auth/permissions.js";
import { checkTopicPermission, type TopicVariables } from "../auth/topic-permissions.js";
import type { UserRegistry } from "../auth/users.js";
import { accessRefused } from "./errors.js";

export type ResourceKind = "queue" | "exchange";
type Operation = "configure" | "write" | "read";

/** What a topic check needs of an exchange: topic permissions apply only to type "topic". */
export interface TopicTarget {
  readonly name: string;
  readonly type: string;
}

/**
 * The permissions one authenticated user has in one vhost, checked on every
 * operation as RabbitMQ does (configure / write / read regexes, and topic
 * permissions on the routing key for topic exchanges).
 */
export class Access {
  /** The {variables} topic patterns may name; MQTT adds client_id (setClientId). */
  private topicVariables: TopicVariables;

  constructor(
    private readonly users: UserRegistry,
    readonly user: string,
    readonly vhost: string,
  ) {
    this.topicVariables = { username: user, vhost };
  }

  /** RabbitMQ's MQTT plugin offers {client_id} to topic patterns (rabbit_mqtt_processor's authz context). */
  setClientId(clientId: string): void {
    this.topicVariables = { username: this.user, vhost: this.vhost, client_id: clientId };
  }

  configure(kind: ResourceKind, name: string): void {
    this.check("configure", kind, name);
  }

  write(kind: ResourceKind, name: string): void {
    this.check("write", kind, name);
  }

  read(kind: ResourceKind, name: string): void {
    this.check("read", kind, name);
  }

  /** Publishing to a topic exchange (rabbit_channel's check_write_permitted_on_topic). */
  topicWrite(exchange: TopicTarget, routingKey: string): void {
    this.checkTopic("write", exchange, routingKey);
  }

  /** Binding to or unbinding from a topic exchange (check_read_permitted_on_topic). */
  topicRead(exchange: TopicTarget, routingKey: string): void {
    this.checkTopic("read", exchange, routingKey);
  }

  private check(operation: Operation, kind: ResourceKind, name: string): void {
    if (checkPermission(this.users.getPermissions(this.user, this.vhost), operation, name)) return;
    const shown = kind === "exchange" && name === "" ? "amq.default" : name;
    throw accessRefused(`access to ${kind} '${shown}' in vhost '${this.vhost}' refused for user '${this.user}'`);
  }

  private checkTopic(operation: "write" | "read", exchange: TopicTarget, routingKey: string): void {
    if (exchange.type !== "topic") return;
    const perms = this.users.getTopicPermissions(this.user, this.vhost, exchange.name);
    if (checkTopicPermission(perms, operation, routingKey, this.topicVariables)) return;
    // RabbitMQ 3.10's text, observed with amqplib: "access to topic 'k' in exchange 'amq.topic' in vhost '/' refused for user 'u'".
    throw accessRefused(
      `access to topic '${routingKey}' in exchange '${exchange.name}' in vhost '${this.vhost}' refused for user '${this.user}'`,
    );
  }
}
