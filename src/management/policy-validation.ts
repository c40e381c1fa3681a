/**
 * Policy definition keys and values checked as RabbitMQ 3.10 checks them
 * (rabbit_policies:validate_policy/1, then rabbit_mirror_queue_misc for the
 * ha-* keys, then "not recognised" for whatever no validator claimed), with
 * its texts, each observed on a 3.10 node: `PUT /api/policies/%2F/p` with
 * `{"max-length":"ten"}` answers 400 `<<"ten">> is not a valid maximum length`.
 * The first failing key wins, core keys in sorted order before the ha-* group.
 */
import type { PolicyValue } from "../core/policies.js";

/** An Erlang term as RabbitMQ's `~p` prints a decoded JSON value. */
export function erlangTerm(value: PolicyValue): string {
  if (typeof value === "string") return `<<"${value.replace(/["\\]/g, (c) => `\\${c}`)}">>`;
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    // Erlang prints floats with a ".0" before any exponent: 1.0e20, not 1e+20.
    const [mantissa = "", exponent] = String(value).split("e");
    const m = mantissa.includes(".") ? mantissa : `${mantissa}.0`;
    return exponent === undefined ? m : `${m}e${exponent.replace(/^\+/, "")}`;
  }
  if (value === null || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(erlangTerm).join(",")}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${erlangTerm(k)} => ${erlangTerm(value[k] ?? null)}`);
  return `#{${entries.join(",")}}`;
}

type Check = (value: PolicyValue) => boolean;

const isInt = (v: PolicyValue): v is number => typeof v === "number" && Number.isInteger(v);
const intAtLeast =
  (min: number): Check =>
  (v) =>
    isInt(v) && v >= min;
const isString: Check = (v) => typeof v === "string";
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === "string" && values.includes(v);
/** rabbit_amqqueue:check_max_age/1: a positive count and one of Y M D h m s. */
const maxAge: Check = (v) => typeof v === "string" && /^[1-9][0-9]*[YMDhms]$/.test(v);

/** rabbit_policies' keys: the check and the "~p ..." text after the value. */
const CORE_KEYS: ReadonlyMap<string, readonly [Check, string]> = new Map([
  ["alternate-exchange", [isString, "is not a valid alternate exchange name"]],
  ["dead-letter-exchange", [isString, "is not a valid dead letter exchange name"]],
  ["dead-letter-routing-key", [isString, "is not a valid dead letter routing key"]],
  ["dead-letter-strategy", [oneOf("at-most-once", "at-least-once"), "is not a valid dead letter strategy"]],
  ["message-ttl", [intAtLeast(0), "is not a valid message TTL"]],
  ["expires", [intAtLeast(1), "is not a valid queue expiry"]],
  ["max-length", [intAtLeast(0), "is not a valid maximum length"]],
  ["max-length-bytes", [intAtLeast(0), "is not a valid maximum length in bytes"]],
  ["max-in-memory-length", [intAtLeast(0), "is not a valid maximum memory in bytes"]],
  ["max-in-memory-bytes", [intAtLeast(0), "is not a valid maximum memory in bytes"]],
  ["queue-mode", [oneOf("default", "lazy"), "is not a valid queue-mode value"]],
  ["queue-version", [(v) => v === 1 || v === 2, "is not a valid queue-version value"]],
  ["overflow", [oneOf("drop-head", "reject-publish", "reject-publish-dlx"), "is not a valid overflow value"]],
  ["delivery-limit", [intAtLeast(0), "is not a valid delivery limit"]],
  ["queue-master-locator", [oneOf("min-masters", "client-local", "random"), "invalid queue-master-locator value"]],
  [
    "queue-leader-locator",
    [oneOf("client-local", "balanced", "random", "least-leaders"), "is not a valid queue leader locator value"],
  ],
  ["initial-cluster-size", [intAtLeast(0), "is not a valid cluster size"]],
  // RabbitMQ 3.10 answers 500 (a crash) for a max-age that is not a string; 400 here.
  ["max-age", [maxAge, "is not a valid max age"]],
  ["stream-max-segment-size-bytes", [intAtLeast(0), "is not a valid segment size"]],
  // Not a 3.10 policy key (3.12 added it), but Warren applies it (queue-features/settings.ts).
  ["consumer-timeout", [intAtLeast(0), "is not a valid consumer timeout"]],
]);

const HA_KEYS = [
  "ha-mode",
  "ha-params",
  "ha-sync-mode",
  "ha-sync-batch-size",
  "ha-promote-on-shutdown",
  "ha-promote-on-failure",
];

/** rabbit_mirror_queue_misc:validate_policy/1's checks, in its order. */
function haProblem(d: Record<string, PolicyValue>): string | undefined {
  if (!HA_KEYS.some((k) => k in d)) return undefined;
  const mode = d["ha-mode"];
  if (mode === undefined)
    return "ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown";
  const params = d["ha-params"];
  if (mode === "all") {
    if (params !== undefined) return 'ha-mode="all" does not take parameters';
  } else if (mode === "exactly") {
    if (params === undefined) return 'ha-mode="exactly" takes an integer, none given';
    if (!isInt(params) || params < 1) return `ha-mode="exactly" takes an integer, ${erlangTerm(params)} given`;
  } else if (mode === "nodes") {
    if (params === undefined) return 'ha-mode="nodes" takes a list, none given';
    if (!Array.isArray(params)) return `ha-mode="nodes" takes a list, ${erlangTerm(params)} given`;
    if (!params.every(isString))
      return `ha-mode="nodes" takes a list of strings, ${erlangTerm(params)} was not a string`;
  } else {
    return `${erlangTerm(mode)} is not a valid ha-mode value`;
  }
  const sync = d["ha-sync-mode"];
  if (sync !== undefined && !oneOf("manual", "automatic")(sync)) {
    return `ha-sync-mode must be "manual" or "automatic", got ${erlangTerm(sync)}`;
  }
  const batch = d["ha-sync-batch-size"];
  if (batch !== undefined && !intAtLeast(1)(batch)) {
    return `ha-sync-batch-size takes an integer greater than 0, ${erlangTerm(batch)} given`;
  }
  for (const key of ["ha-promote-on-shutdown", "ha-promote-on-failure"]) {
    const value = d[key];
    if (value !== undefined && !oneOf("always", "when-synced")(value)) {
      return `${key} must be "always" or "when-synced", got ${erlangTerm(value)}`;
    }
  }
  return undefined;
}

/** What an operator policy may set (rabbit_policies' operator_policy_validator in 3.10): limits only. */
export const OPERATOR_POLICY_KEYS: ReadonlySet<string> = new Set([
  "expires",
  "message-ttl",
  "max-length",
  "max-length-bytes",
  "max-in-memory-length",
  "max-in-memory-bytes",
  "delivery-limit",
]);

/**
 * The first problem RabbitMQ 3.10 reports for a definition (the text after
 * "Validation failed\n\n"), or undefined when it is valid. `allowed` narrows
 * the keys, for operator policies.
 */
export function policyDefinitionProblem(
  definition: Record<string, PolicyValue>,
  allowed?: ReadonlySet<string>,
): string | undefined {
  const keys = Object.keys(definition).sort();
  const claimed = (k: string): boolean => (allowed ? allowed.has(k) : CORE_KEYS.has(k) || HA_KEYS.includes(k));
  for (const key of keys.filter(claimed)) {
    const rule = CORE_KEYS.get(key);
    const value = definition[key] ?? null;
    if (rule && !rule[0](value)) return `${erlangTerm(value)} ${rule[1]}\n`;
  }
  const ha = allowed ? undefined : haProblem(definition);
  if (ha !== undefined) return `${ha}\n`;
  const unknown = keys.filter((k) => !claimed(k));
  if (unknown.length === 0) return undefined;
  const terms = unknown.map((k) => `{${erlangTerm(k)},${erlangTerm(definition[k] ?? null)}}`).join(",");
  return `[${terms}] are not recognised policy settings\n`;
}
