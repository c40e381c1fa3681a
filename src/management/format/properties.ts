/**
 * AMQP basic properties ↔ the management API's JSON (snake_case keys, as
 * rabbit_mgmt_format:basic_properties). RabbitMQ renders an empty property
 * list as [] (an empty Erlang proplist), so does this.
 */
import type { MessageProperties } from "../../core/message.js";
import { badRequest } from "../errors.js";
import type { Json, JsonObject } from "../http-util.js";
import { fieldTableToJson, jsonToFieldTable } from "./field-table.js";

const STRING_PROPERTIES = [
  ["content_type", "contentType"],
  ["content_encoding", "contentEncoding"],
  ["correlation_id", "correlationId"],
  ["reply_to", "replyTo"],
  ["expiration", "expiration"],
  ["message_id", "messageId"],
  ["type", "type"],
  ["user_id", "userId"],
  ["app_id", "appId"],
  ["cluster_id", "clusterId"],
] as const;

const NUMBER_PROPERTIES = [
  ["delivery_mode", "deliveryMode"],
  ["priority", "priority"],
  ["timestamp", "timestamp"],
] as const;

export function propertiesToJson(properties: MessageProperties): JsonObject | [] {
  const out: JsonObject = {};
  for (const [json, key] of NUMBER_PROPERTIES) if (properties[key] !== undefined) out[json] = properties[key];
  if (properties.headers !== undefined) out["headers"] = fieldTableToJson(properties.headers);
  for (const [json, key] of STRING_PROPERTIES) if (properties[key] !== undefined) out[json] = properties[key];
  return Object.keys(out).length === 0 ? [] : out;
}

export function jsonToProperties(json: Json | undefined): MessageProperties {
  if (json === undefined || json === null || (Array.isArray(json) && json.length === 0)) return {};
  if (typeof json !== "object" || Array.isArray(json)) throw badRequest("properties must be an object");
  const properties: MessageProperties = {};
  for (const [key, value] of Object.entries(json)) {
    const stringProperty = STRING_PROPERTIES.find(([name]) => name === key);
    const numberProperty = NUMBER_PROPERTIES.find(([name]) => name === key);
    if (stringProperty) {
      if (typeof value !== "string") throw badRequest(`property ${key} must be a string`);
      properties[stringProperty[1]] = value;
    } else if (numberProperty) {
      const number = typeof value === "string" ? Number(value) : value;
      if (typeof number !== "number" || !Number.isInteger(number))
        throw badRequest(`property ${key} must be an integer`);
      properties[numberProperty[1]] = number;
    } else if (key === "headers") {
      properties.headers = jsonToFieldTable(value, "headers");
    } else {
      throw badRequest(`unknown property ${key}`);
    }
  }
  return properties;
}
