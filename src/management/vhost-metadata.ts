/**
 * Vhost metadata as the management API reads and writes it, matching
 * RabbitMQ 3.10.8 (observed with curl against the reference broker):
 * - PUT /api/vhosts/{name} takes `description`, `tags` ("a,b" or a list),
 *   `defaultqueuetype` (3.10's key; 3.11+ also reads `default_queue_type`)
 *   and `tracing`. An update replaces description and tags (absent = empty)
 *   but keeps the default queue type the vhost was created with; tracing
 *   changes only when given.
 * - A definitions file's vhost takes the same fields at top level
 *   (`default_queue_type` there), or inside `metadata` when absent at top
 *   level; "undefined" means no default queue type.
 */
import type { VHost, VhostMetadata } from "../core/vhost.js";
import { badRequest } from "./errors.js";
import type { Json, JsonObject } from "./http-util.js";
import { parseTags } from "./routes/users.js";

const QUEUE_TYPES: readonly string[] = ["classic", "quorum", "stream"];

function description(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  throw badRequest("description must be a string");
}

/** RabbitMQ 3.10 refuses an unknown type (reason invalid_queue_type, as a 500; a client error here). */
function queueType(value: Json | undefined, undefinedMeansNone: boolean): string | null {
  if (value === undefined || value === null || (undefinedMeansNone && value === "undefined")) return null;
  if (typeof value === "string" && QUEUE_TYPES.includes(value)) return value;
  throw badRequest("invalid_queue_type");
}

/** RabbitMQ answers a tracing value that is not a boolean with reason [not_boolean, <value>]. */
export function tracingField(body: JsonObject): boolean | null {
  const value = body["tracing"];
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value;
  throw badRequest(["not_boolean", value]);
}

/** The metadata a PUT body gives; `existing` is the vhost being updated, or null when it is created. */
export function metadataFromPut(body: JsonObject, existing: VHost | null): VhostMetadata {
  const requested = queueType(body["defaultqueuetype"] ?? body["default_queue_type"], false);
  return {
    description: description(body["description"]),
    tags: parseTags(body["tags"]),
    defaultQueueType: existing ? existing.metadata.defaultQueueType : requested,
  };
}

/** The metadata a definitions file's vhost entry gives; top-level fields win over `metadata`. */
export function metadataFromDefinition(entry: JsonObject, existing: VHost | null): VhostMetadata {
  const nested = entry["metadata"];
  const inner: JsonObject = nested !== null && typeof nested === "object" && !Array.isArray(nested) ? nested : {};
  const pick = (key: string): Json | undefined => entry[key] ?? inner[key];
  const requested = queueType(pick("default_queue_type"), true);
  return {
    description: description(pick("description")),
    tags: parseTags(pick("tags")),
    defaultQueueType: existing ? existing.metadata.defaultQueueType : requested,
  };
}

/** The fields GET /api/vhosts shows: metadata carries default_queue_type only when one is set. */
export function metadataJson(metadata: VhostMetadata): JsonObject {
  return {
    ...(metadata.defaultQueueType === null ? {} : { default_queue_type: metadata.defaultQueueType }),
    description: metadata.description,
    tags: metadata.tags,
  };
}
