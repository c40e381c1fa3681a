import { CoreError } from "../errors.js";
import { TypedField, type FieldTable, type FieldValue } from "../message.js";
import { integerValue } from "../queue-arguments.js";
import { parseAge } from "./max-age.js";

/** Where a stream consumer starts (RabbitMQ's x-stream-offset). */
export type OffsetSpec =
  | { readonly kind: "first" }
  | { readonly kind: "last" }
  | { readonly kind: "next" }
  | { readonly kind: "offset"; readonly offset: number }
  /** ms since the epoch: the first entry stamped at or after it. */
  | { readonly kind: "timestamp"; readonly at: number };

/** What a stream subscription asks for, whatever the protocol. */
export interface StreamConsumerOptions {
  readonly offset: OffsetSpec;
  /** x-stream-filter values; null = every entry. */
  readonly filter: readonly string[] | null;
  /** x-stream-match-unfiltered: entries published without a filter value pass the filter too. */
  readonly matchUnfiltered: boolean;
}

export const DEFAULT_STREAM_CONSUMER: StreamConsumerOptions = {
  offset: { kind: "next" },
  filter: null,
  matchUnfiltered: false,
};

/**
 * RabbitMQ 3.10 closes the connection with a bare 541 INTERNAL_ERROR for an
 * x-stream-offset it cannot use (its channel process crashes; observed
 * with "bogus"): Warren gives the same code, with a text saying why.
 */
const badOffset = (value: string): CoreError => new CoreError("internal-error", `invalid x-stream-offset ${value}`);

/** x-stream-offset as AMQP carries it: first/last/next, an offset, a timestamp ('T', seconds), or an interval ("10m"). */
export function parseOffsetSpec(value: FieldValue | undefined, now: number): OffsetSpec {
  if (value === undefined) return { kind: "next" };
  if (value === "first" || value === "last" || value === "next") return { kind: value };
  if (typeof value === "string") {
    const age = parseAge(value);
    if (age === null) throw badOffset(`'${value}'`);
    return { kind: "timestamp", at: now - age };
  }
  if (value instanceof TypedField && value.type === "T") return { kind: "timestamp", at: Number(value.value) * 1000 };
  const offset = integerValue(value);
  if (offset === null || offset < 0)
    throw badOffset(typeof value === "object" && value !== null ? JSON.stringify(value) : String(value));
  return { kind: "offset", offset };
}

/** x-stream-offset / x-stream-filter / x-stream-match-unfiltered from basic.consume arguments (or STOMP headers). */
export function streamConsumerOptions(args: FieldTable, now: number): StreamConsumerOptions {
  const filterArg = args["x-stream-filter"];
  let filter: string[] | null = null;
  if (typeof filterArg === "string") filter = [filterArg];
  else if (Array.isArray(filterArg)) filter = filterArg.filter((v): v is string => typeof v === "string");
  return {
    offset: parseOffsetSpec(args["x-stream-offset"], now),
    filter,
    matchUnfiltered: args["x-stream-match-unfiltered"] === true,
  };
}
