import { preconditionFailed } from "./errors.js";
import { TypedField, type FieldTable, type FieldValue } from "./message.js";
import { parseAge } from "./stream/max-age.js";

/**
 * Validation of queue declaration arguments with RabbitMQ 3.10's answers
 * (observed on a real node): the error names the argument and the reason
 * in Erlang's printed form, e.g. `{value_negative,-1}`.
 */
type Check = (value: FieldValue, args: FieldTable) => string | null;

const typeName = (value: FieldValue): string => {
  if (value === null) return "void";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "string") return "longstr";
  if (typeof value === "bigint") return "long";
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "double";
  if (Buffer.isBuffer(value)) return "binary";
  if (value instanceof TypedField) return value.type === "T" ? "timestamp" : value.type === "D" ? "decimal" : "long";
  if (Array.isArray(value)) return "array";
  return "table";
};

export const integerValue = (value: FieldValue): number | null => {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof TypedField && typeof value.value === "number" && value.type !== "f" && value.type !== "d")
    return value.value;
  return null;
};

const integer =
  (rule: "non-negative" | "positive", max?: number): Check =>
  (value) => {
    const n = integerValue(value);
    if (n === null) return `"expected integer, got ${typeName(value)}"`;
    if (n < 0) return `{value_negative,${n}}`;
    if (n === 0 && rule === "positive") return `{value_zero,0}`;
    if (max !== undefined && n > max) return `{max_value_exceeded,${n}}`;
    return null;
  };

const oneOf =
  (allowed: readonly string[], error: (v: string) => string): Check =>
  (value) => {
    if (typeof value !== "string") return `{unacceptable_type,${typeName(value)}}`;
    return allowed.includes(value) ? null : error(value);
  };

const shortString: Check = (value) => (typeof value === "string" ? null : `{unacceptable_type,${typeName(value)}}`);

const bool: Check = (value) => (typeof value === "boolean" ? null : `{unacceptable_type,${typeName(value)}}`);

const CHECKS: Record<string, Check> = {
  "x-expires": integer("positive"),
  "x-message-ttl": integer("non-negative"),
  "x-dead-letter-exchange": shortString,
  "x-dead-letter-routing-key": (value, args) =>
    shortString(value, args) ??
    (args["x-dead-letter-exchange"] === undefined ? "routing_key_but_no_dlx_defined" : null),
  "x-max-length": integer("non-negative"),
  "x-max-length-bytes": integer("non-negative"),
  "x-max-priority": integer("non-negative", 255),
  "x-overflow": oneOf(["drop-head", "reject-publish", "reject-publish-dlx"], () => "invalid_overflow"),
  "x-queue-mode": oneOf(["default", "lazy"], (v) => `"unsupported queue mode '${v}'"`),
  "x-queue-type": oneOf(["classic", "quorum", "stream"], (v) => `"unsupported queue type '${v}'"`),
  "x-single-active-consumer": bool,
  // Streams (RabbitMQ 3.10, observed): x-max-age 7 -> {unacceptable_type,signedint}, "7X" -> invalid_max_age.
  "x-max-age": (value) =>
    typeof value !== "string"
      ? `{unacceptable_type,${wireTypeName(value)}}`
      : parseAge(value) === null
        ? "invalid_max_age"
        : null,
  "x-stream-max-segment-size-bytes": integer("non-negative"),
  // Quorum queues and streams (RabbitMQ 3.10, observed): "random" and "least-leaders" are kept as older names of
  // "balanced"; "min-masters" or "" -> invalid_queue_locator_arg, 5 -> {unacceptable_type,signedint}.
  "x-queue-leader-locator": (value) =>
    typeof value !== "string"
      ? `{unacceptable_type,${wireTypeName(value)}}`
      : ["client-local", "balanced", "random", "least-leaders"].includes(value)
        ? null
        : "invalid_queue_locator_arg",
  // x-delivery-limit and x-consumer-timeout are not validated: RabbitMQ 3.10
  // accepts any value for them (observed: "x", -5) and ignores what it cannot use.
};

export function validateQueueArguments(queue: string, vhost: string, args: FieldTable): void {
  for (const [name, value] of Object.entries(args)) {
    const check = CHECKS[name];
    const problem = check?.(value, args);
    if (problem) throw preconditionFailed(`invalid arg '${name}' for queue '${queue}' in vhost '${vhost}': ${problem}`);
  }
}

/**
 * basic.consume arguments: x-priority must be an integer of any width,
 * negative allowed (rabbit_amqqueue:check_consumer_args); RabbitMQ names
 * the queue in the error as for queue arguments.
 */
export function validateConsumerArguments(queue: string, vhost: string, args: FieldTable): void {
  const priority = args["x-priority"];
  if (priority !== undefined && integerValue(priority) === null) {
    throw preconditionFailed(
      `invalid arg 'x-priority' for queue '${queue}' in vhost '${vhost}': "expected integer, got ${typeName(priority)}"`,
    );
  }
}

/** Arguments RabbitMQ compares when a queue or exchange is declared again. */
export const EQUIVALENCE_CHECKED_QUEUE_ARGS = [
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-expires",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-age",
  "x-stream-max-segment-size-bytes",
  "x-max-priority",
  "x-message-ttl",
  "x-overflow",
  "x-queue-mode",
  "x-queue-type",
  "x-single-active-consumer",
] as const;

const printable = (value: FieldValue): string => {
  if (value instanceof TypedField) return String(typeof value.value === "object" ? value.value.value : value.value);
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
};

/** RabbitMQ's wire type names, as they appear in its equivalence errors. */
export const wireTypeName = (value: FieldValue): string => {
  if (typeof value === "number" && Number.isInteger(value)) {
    // amqplib (like most clients) picks the smallest integer type that fits
    if (value >= -128 && value <= 127) return "byte";
    if (value >= -32768 && value <= 32767) return "short";
    if (value >= -2147483648 && value <= 2147483647) return "signedint";
    return "long";
  }
  return typeName(value);
};

const sameValue = (a: FieldValue, b: FieldValue): boolean => {
  const ia = integerValue(a);
  const ib = integerValue(b);
  if (ia !== null || ib !== null) return ia === ib;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return printable(a) === printable(b);
  if (typeof a === "object" && a !== null) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
};

/**
 * Text for an argument that differs between two declarations, or null when
 * they agree. Mirrors rabbit_misc:assert_args_equivalence.
 */
export function argumentDifference(
  name: string,
  received: FieldValue | undefined,
  current: FieldValue | undefined,
): string | null {
  if (received === undefined && current === undefined) return null;
  if (received !== undefined && current !== undefined) {
    if (sameValue(received, current)) return null;
    return `received '${printable(received)}' but current is '${printable(current)}'`;
  }
  if (received === undefined)
    return `received none but current is the value '${printable(current as FieldValue)}' of type '${wireTypeName(current as FieldValue)}'`;
  return `received the value '${printable(received)}' of type '${wireTypeName(received)}' but current is none`;
}
