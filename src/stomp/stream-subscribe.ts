import { CoreError, preconditionFailed } from "../core/errors.js";
import type { StreamConsumerOptions, OffsetSpec } from "../core/stream/consumer-options.js";
import type { StreamQueue } from "../core/stream/stream-queue.js";
import { booleanHeader } from "./endpoints.js";

/**
 * A STOMP SUBSCRIBE to a stream, as RabbitMQ's STOMP plugin takes it:
 * prefetch-count and a client ack mode are required (3.10's answers,
 * observed: "consumer prefetch count is not set ..." and the 540 for auto
 * ack); `x-stream-offset` is first, last, next, offset=<n> or
 * timestamp=<seconds> (anything else reads from next, as 3.10 does);
 * `x-stream-filter` (comma-separated) and `x-stream-match-unfiltered` as
 * in RabbitMQ 3.13.
 */
export function streamSubscription(
  queue: StreamQueue,
  headers: ReadonlyMap<string, string>,
  prefetch: number,
  autoAck: boolean,
): StreamConsumerOptions {
  if (prefetch === 0)
    throw preconditionFailed(
      `consumer prefetch count is not set for 'queue '${queue.name}' in vhost '${queue.vhost}''`,
    );
  if (autoAck) {
    throw new CoreError(
      "not-implemented",
      `automatic acknowledgement not supported by stream queues queue '${queue.name}' in vhost '${queue.vhost}'`,
    );
  }
  const filter = headers.get("x-stream-filter");
  return {
    offset: offsetSpec(headers.get("x-stream-offset")),
    filter: filter === undefined ? null : filter.split(",").map((value) => value.trim()),
    matchUnfiltered: booleanHeader(headers, "x-stream-match-unfiltered") === true,
  };
}

function offsetSpec(header: string | undefined): OffsetSpec {
  const value = header?.trim();
  if (value === "first" || value === "last" || value === "next") return { kind: value };
  const match = value === undefined ? null : /^(offset|timestamp)=([0-9]+)$/.exec(value);
  if (match === null) return { kind: "next" };
  const n = Number(match[2]);
  return match[1] === "offset" ? { kind: "offset", offset: n } : { kind: "timestamp", at: n * 1000 };
}
