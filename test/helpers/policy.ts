import type { Policy } from "../../src/core/policies.js";

/** A policy on the default vhost applying to queues, priority 0 unless `extra` says otherwise (RabbitMQ's defaults for a policy). */
export const queuePolicy = (
  name: string,
  pattern: string,
  definition: Policy["definition"],
  extra: Partial<Policy> = {},
): Policy => ({
  vhost: "/",
  name,
  pattern,
  applyTo: "queues",
  definition,
  priority: 0,
  ...extra,
});
