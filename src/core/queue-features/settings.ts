import { policyPatternMatches, type Policy, type PolicyValue } from "../policies.js";
import { TypedField, type FieldTable, type FieldValue } from "../message.js";
import { integerValue } from "../queue-arguments.js";

export type Overflow = "drop-head" | "reject-publish" | "reject-publish-dlx";

export interface DeduplicationSettings {
  /** How many message ids are remembered (oldest forgotten first); null = unbounded. */
  cacheSize: number | null;
  /** How long an id is remembered, in ms; null = until evicted by size. */
  cacheTtl: number | null;
  /** The header whose value identifies a message. */
  header: string;
}

/** What a queue does beyond FIFO, from its arguments and the policies that match it. */
export interface QueueSettings {
  messageTtl: number | null;
  expires: number | null;
  maxLength: number | null;
  maxLengthBytes: number | null;
  overflow: Overflow;
  deadLetterExchange: string | null;
  deadLetterRoutingKey: string | null;
  deliveryLimit: number | null;
  singleActiveConsumer: boolean;
  consumerTimeout: number | null;
  quorum: boolean;
  deduplication: DeduplicationSettings | null;
}

type Source = Record<string, FieldValue | PolicyValue | undefined>;

const int = (value: FieldValue | PolicyValue | undefined): number | null =>
  typeof value === "number" || typeof value === "bigint" || value instanceof TypedField ? integerValue(value) : null;
const str = (value: FieldValue | PolicyValue | undefined): string | null => (typeof value === "string" ? value : null);

/**
 * RabbitMQ's precedence (rabbit_amqqueue_process:process_args_policy): for
 * expires, message-ttl, max-length and max-length-bytes the smaller of the
 * argument and the policy wins; for the others the queue argument wins and
 * the policy fills in when there is none.
 */
const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

export function effectiveSettings(args: FieldTable, policy: Source): QueueSettings {
  const a = args as Source;
  const overflow = str(a["x-overflow"]) ?? str(policy["overflow"]) ?? "drop-head";
  const dedupOn = a["x-message-deduplication"] === true;
  return {
    messageTtl: minOf(int(a["x-message-ttl"]), int(policy["message-ttl"])),
    expires: minOf(int(a["x-expires"]), int(policy["expires"])),
    maxLength: minOf(int(a["x-max-length"]), int(policy["max-length"])),
    maxLengthBytes: minOf(int(a["x-max-length-bytes"]), int(policy["max-length-bytes"])),
    overflow: overflow === "reject-publish" || overflow === "reject-publish-dlx" ? overflow : "drop-head",
    deadLetterExchange: str(a["x-dead-letter-exchange"]) ?? str(policy["dead-letter-exchange"]),
    deadLetterRoutingKey: str(a["x-dead-letter-routing-key"]) ?? str(policy["dead-letter-routing-key"]),
    deliveryLimit: int(a["x-delivery-limit"]) ?? int(policy["delivery-limit"]),
    singleActiveConsumer: a["x-single-active-consumer"] === true,
    consumerTimeout: int(a["x-consumer-timeout"]) ?? int(policy["consumer-timeout"]),
    quorum: a["x-queue-type"] === "quorum",
    deduplication: dedupOn
      ? {
          cacheSize: int(a["x-cache-size"]),
          cacheTtl: int(a["x-cache-ttl"]),
          header: str(a["x-deduplication-header"]) ?? "x-deduplication-header",
        }
      : null,
  };
}

const CAPPED_BY_OPERATOR = ["expires", "message-ttl", "max-length", "max-length-bytes", "delivery-limit"];

const appliesToQueue = (policy: Policy, quorum: boolean): boolean =>
  policy.applyTo === "queues" ||
  policy.applyTo === "all" ||
  (policy.applyTo === "classic_queues" && !quorum) ||
  (policy.applyTo === "quorum_queues" && quorum);

/** The matching policy with the highest priority (rabbit_policy:match), or null. */
export function matchPolicy(
  policies: Iterable<Policy>,
  name: string,
  quorum: boolean,
  forQueue: boolean,
): Policy | null {
  let best: Policy | null = null;
  for (const policy of policies) {
    if (forQueue ? !appliesToQueue(policy, quorum) : policy.applyTo !== "exchanges" && policy.applyTo !== "all")
      continue;
    if (policyPatternMatches(policy, name) && (best === null || policy.priority > best.priority)) best = policy;
  }
  return best;
}

/**
 * The definition in force: the user policy's keys, with operator policy
 * values capping the numeric limits (rabbit_policy: the lower value wins)
 * and filling in keys the user policy lacks.
 */
export function mergedDefinition(policy: Policy | null, operatorPolicy: Policy | null): Source {
  const merged: Source = { ...(policy?.definition ?? {}) };
  if (operatorPolicy === null) return merged;
  for (const [key, value] of Object.entries(operatorPolicy.definition)) {
    const current = merged[key];
    if (CAPPED_BY_OPERATOR.includes(key) && typeof value === "number" && typeof current === "number") {
      merged[key] = Math.min(value, current);
    } else if (current === undefined) {
      merged[key] = value;
    }
  }
  return merged;
}
