import type { JsonObject } from "../http-util.js";

/** RabbitMQ's counter shape: {"publish": 3, "publish_details": {"rate": 0.6}}. */
export function withDetails(out: JsonObject, name: string, count: number, rate: number): void {
  out[name] = count;
  out[`${name}_details`] = { rate };
}
