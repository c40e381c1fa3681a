import type { Queue } from "../../core/queue.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import { mergedDefinition } from "../../core/queue-features/settings.js";
import type { Policy } from "../../core/policies.js";
import type { Management } from "../context.js";
import type { JsonObject } from "../http-util.js";
import { queueCounts, type QueueCounter } from "../stats.js";
import { consumerJson, listConsumers } from "./connection.js";
import { fieldTableToJson } from "./field-table.js";
import { effectivePolicy } from "./policy.js";
import { withDetails } from "./rates.js";

/**
 * A queue as /api/queues shows it (rabbit_mgmt_format + queue stats).
 * Erlang-process internals (memory, reductions, garbage_collection) are
 * left out.
 */
export function queueJson(mgmt: Management, queue: Queue, detail: boolean): JsonObject {
  const stats = mgmt.stats;
  const counts = queueCounts(queue);
  const rate = (counter: QueueCounter): number => stats.queueRate(queue, counter);
  const policy = effectivePolicy(mgmt.broker.policies, queue.vhost, queue.name, "queue");
  const operatorPolicy = effectivePolicy(mgmt.broker.operatorPolicies, queue.vhost, queue.name, "queue");
  const messageStats: JsonObject = {};
  withDetails(messageStats, "ack", counts.ack, rate("ack"));
  withDetails(messageStats, "deliver", counts.deliver, rate("deliver"));
  withDetails(messageStats, "deliver_get", counts.deliver + counts.get, rate("deliver") + rate("get"));
  withDetails(messageStats, "get", counts.get, rate("get"));
  withDetails(messageStats, "publish", counts.publish, rate("publish"));
  withDetails(messageStats, "redeliver", counts.redeliver, rate("redeliver"));
  const consumers = queue.remote?.lastFigures?.consumers ?? queue.consumerCount;
  const out: JsonObject = {
    arguments: fieldTableToJson(queue.arguments),
    auto_delete: queue.autoDelete,
    consumer_capacity: consumers > 0 ? 1 : 0,
    consumer_utilisation: consumers > 0 ? 1 : null,
    consumers,
    durable: queue.durable,
    // RabbitMQ 3.10 (checked on :15673) shows the merge: operator limits cap the policy's and fill in missing keys
    // (merged from two policy definitions only, so every value is a PolicyValue)
    effective_policy_definition:
      policy || operatorPolicy ? (mergedDefinition(policy, operatorPolicy) as Policy["definition"]) : {},
    exclusive: queue.exclusiveOwner !== null,
    exclusive_consumer_tag: queue.listConsumers().find((c) => c.exclusive)?.tag ?? null,
    head_message_timestamp: null,
    message_bytes: queue.messageBytes + queue.unackedBytes,
    message_bytes_ready: queue.messageBytes,
    message_bytes_unacknowledged: queue.unackedBytes,
    message_stats: messageStats,
  };
  withDetails(out, "messages", counts.messages, rate("messages"));
  withDetails(out, "messages_ready", counts.messages_ready, rate("messages_ready"));
  withDetails(out, "messages_unacknowledged", counts.messages_unacknowledged, rate("messages_unacknowledged"));
  Object.assign(out, {
    name: queue.name,
    // A cluster queue's owner, as RabbitMQ shows a quorum queue's leader.
    node: queue.ownerNode ?? mgmt.node,
    operator_policy: operatorPolicy ? operatorPolicy.name : null,
    policy: policy ? policy.name : null,
    state: "running",
    // RabbitMQ shows the queue type ("quorum" for x-queue-type quorum, also when a vhost default set it).
    type: queueType(queue),
    vhost: queue.vhost,
  });
  if (queue instanceof StreamQueue) streamFields(out, queue, out["node"] as string);
  if (detail) {
    out["consumer_details"] = listConsumers(mgmt)
      .filter((c) => c.vhost === queue.vhost && c.info.queue === queue.name)
      .map((c) => consumerJson(mgmt, c));
    out["deliveries"] = [];
    out["incoming"] = [];
  }
  return out;
}

function queueType(queue: Queue): string {
  if (queue instanceof StreamQueue) return "stream";
  return queue.arguments["x-queue-type"] === "quorum" ? "quorum" : "classic";
}

/** What RabbitMQ 3.10 shows of a classic queue but not of a stream (observed on :15673). */
const NOT_SHOWN_FOR_STREAMS = [
  "consumer_capacity",
  "consumer_utilisation",
  "exclusive_consumer_tag",
  "head_message_timestamp",
  "message_bytes",
  "message_bytes_ready",
  "message_bytes_unacknowledged",
];

/**
 * A stream as RabbitMQ 3.10 lists it (observed on :15673): its replicas
 * (`members`, `online`: this node) and `readers` per node (its consumers,
 * whatever the protocol); every entry is ready, none is removed by an ack.
 * Plus its segments (count, bytes, first and last offset) for the UI.
 */
function streamFields(out: JsonObject, stream: StreamQueue, node: string): void {
  for (const key of NOT_SHOWN_FOR_STREAMS) delete out[key];
  out["members"] = [node];
  out["online"] = [node];
  out["readers"] = { [node]: stream.consumerCount };
  // Warren's own: RabbitMQ shows a stream's segments only through `rabbitmq-streams stream_status`.
  const log = stream.log;
  out["stream_segments"] = {
    count: log.segments.length,
    bytes: log.bytes,
    first_offset: log.firstOffset,
    last_offset: log.count > 0 ? log.nextOffset - 1 : null,
  };
}
