import type { FieldTable } from "../message.js";
import type { PolicySources } from "../queue-features/attach.js";
import { matchPolicy, mergedDefinition } from "../queue-features/settings.js";
import { DEFAULT_MAX_SEGMENT_BYTES } from "../../store/stream/stream-store.js";
import { parseAge } from "./max-age.js";
import { intArg } from "./stream-arguments.js";
import type { StreamSettings } from "./stream-queue.js";

const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const policyInt = (value: unknown): number | null =>
  typeof value === "number" && Number.isInteger(value) ? value : null;

/**
 * A stream's retention and segment size from its arguments and policies,
 * with RabbitMQ's precedence (rabbit_stream_queue): the smaller
 * max-length-bytes wins; x-max-age and x-stream-max-segment-size-bytes
 * win over the policy's max-age and stream-max-segment-size-bytes.
 */
export function streamSettings(
  args: FieldTable,
  name: string,
  vhost: string,
  sources: PolicySources | null,
): StreamSettings {
  const policy =
    sources === null
      ? {}
      : mergedDefinition(
          matchPolicy(sources.user.list(vhost), name, false, true),
          matchPolicy(sources.operator.list(vhost), name, false, true),
        );
  const ageArg = args["x-max-age"];
  const agePolicy = policy["max-age"];
  const age = typeof ageArg === "string" ? ageArg : typeof agePolicy === "string" ? agePolicy : null;
  return {
    retention: {
      maxBytes: minOf(intArg(args["x-max-length-bytes"]), policyInt(policy["max-length-bytes"])),
      maxAgeMs: age === null ? null : parseAge(age),
    },
    maxSegmentBytes:
      intArg(args["x-stream-max-segment-size-bytes"]) ??
      policyInt(policy["stream-max-segment-size-bytes"]) ??
      DEFAULT_MAX_SEGMENT_BYTES,
  };
}
