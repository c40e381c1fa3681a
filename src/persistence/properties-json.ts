import type { MessageProperties } from "../core/message.js";
import { argumentsFromJson, argumentsToJson } from "./field-table-json.js";
import type { JsonArguments } from "../store/types.js";

/** Message properties as JSON: scalar fields as they are, headers with the store's tagged field-table encoding. */
export type PropertiesJson = Omit<MessageProperties, "headers"> & { headers?: JsonArguments };

export function propertiesToJson(properties: MessageProperties): PropertiesJson {
  const { headers, ...rest } = properties;
  return headers === undefined ? rest : { ...rest, headers: argumentsToJson(headers) };
}

export function propertiesFromJson(json: PropertiesJson): MessageProperties {
  const { headers, ...rest } = json;
  return headers === undefined ? rest : { ...rest, headers: argumentsFromJson(headers) };
}
