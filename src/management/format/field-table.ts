/**
 * AMQP field tables ↔ JSON, as the management API shows arguments, headers
 * and client properties: typed values (timestamps, decimals, explicit int
 * widths) become their plain numbers, byte arrays their text.
 */
import { DEFAULTS } from "../../config/defaults.js";
import { TypedField, type FieldTable, type FieldValue } from "../../core/message.js";
import { badRequest, type ApiError } from "../errors.js";
import type { Json, JsonObject } from "../http-util.js";

export function fieldValueToJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof TypedField) {
    const inner = value.value;
    if (typeof inner === "object") return inner.value / 10 ** inner.scale;
    return Number(inner);
  }
  if (Array.isArray(value)) return value.map(fieldValueToJson);
  if (typeof value === "object") return fieldTableToJson(value as Record<string, unknown>);
  return null;
}

export function fieldTableToJson(table: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(table)) out[key] = fieldValueToJson(value);
  return out;
}

/**
 * JSON from a request body into a field table (queue arguments, message
 * headers). Nesting is held to the AMQP codec's limit: a persistent message
 * with deeper headers would be stored but could never be decoded again.
 */
export function jsonToFieldTable(json: Json | undefined, what: string): FieldTable {
  if (json === undefined || json === null) return {};
  if (typeof json !== "object" || Array.isArray(json)) throw badRequest(`${what} must be an object`);
  return tableAt(json, what, 0);
}

function tableAt(json: JsonObject, what: string, depth: number): FieldTable {
  if (depth > DEFAULTS.maxFieldTableDepth) throw tooDeep(what);
  const table: FieldTable = {};
  for (const [key, value] of Object.entries(json)) table[key] = valueAt(value, what, depth);
  return table;
}

function valueAt(value: Json, what: string, depth: number): FieldValue {
  if (Array.isArray(value)) {
    if (depth + 1 > DEFAULTS.maxFieldTableDepth) throw tooDeep(what);
    return value.map((item) => valueAt(item, what, depth + 1));
  }
  if (value !== null && typeof value === "object") return tableAt(value, what, depth + 1);
  return value;
}

/** The codec's text for the same refusal (AMQP answers it as 502 SYNTAX_ERROR). */
const tooDeep = (what: string): ApiError =>
  badRequest(`${what}: field table nested too deeply (limit ${DEFAULTS.maxFieldTableDepth})`);
