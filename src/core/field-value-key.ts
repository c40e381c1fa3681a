import { type FieldValue, TypedField } from "./message.js";

/**
 * A string that identifies a header value, for hashing (consistent-hash
 * exchange) and comparing (deduplication). Scalars keep their plain text so
 * existing keys do not move; tables, arrays and typed fields get an
 * unambiguous encoding, where String() gave "[object Object]" for every table
 * and so made all of them collide.
 */
export function fieldValueKey(value: FieldValue): string {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  if (value === null || typeof value !== "object") return String(value);
  return nested(value);
}

function nested(value: FieldValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  if (Buffer.isBuffer(value)) return `bin${JSON.stringify(value.toString("latin1"))}`;
  if (value instanceof TypedField) {
    const inner = value.value;
    const text = typeof inner === "object" ? `${inner.scale}:${inner.value}` : String(inner);
    return `${value.type}(${text})`;
  }
  if (Array.isArray(value)) return `[${value.map(nested).join(",")}]`;
  // AMQP field tables are ordered on the wire (0-9-1 section 4.2.5.5), so the order is kept.
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}:${nested(item)}`)
    .join(",")}}`;
}
