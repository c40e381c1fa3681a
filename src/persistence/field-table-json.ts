/**
 * Field tables (queue/exchange/binding arguments) as JSON. Plain values stay
 * plain, as in RabbitMQ's definitions.json; the few AMQP values JSON cannot
 * hold are tagged so they come back with the same wire type.
 */
import { TypedField, type FieldTable, type FieldValue } from "../core/message.js";
import type { JsonArguments } from "../store/types.js";

type Tagged = { $bigint: string } | { $bytes: string } | { $typed: string; value: unknown };

function toJson(value: FieldValue): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() } satisfies Tagged;
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") } satisfies Tagged;
  if (value instanceof TypedField) {
    const inner = typeof value.value === "bigint" ? { $bigint: value.value.toString() } : value.value;
    return { $typed: value.type, value: inner } satisfies Tagged;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") return argumentsToJson(value);
  return value;
}

function fromJson(value: unknown): FieldValue {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.$bigint === "string") return BigInt(record.$bigint);
    if (typeof record.$bytes === "string") return Buffer.from(record.$bytes, "base64");
    if (typeof record.$typed === "string") {
      const inner = fromJson(record.value);
      return new TypedField(record.$typed as TypedField["type"], inner as TypedField["value"]);
    }
    return argumentsFromJson(record);
  }
  return value as FieldValue;
}

export function argumentsToJson(table: FieldTable): JsonArguments {
  const out: JsonArguments = {};
  for (const [key, value] of Object.entries(table)) out[key] = toJson(value);
  return out;
}

export function argumentsFromJson(json: JsonArguments): FieldTable {
  const out: FieldTable = {};
  for (const [key, value] of Object.entries(json)) out[key] = fromJson(value);
  return out;
}
