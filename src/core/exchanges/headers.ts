import { TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../message.js";
import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";

type MatchMode = "all" | "any";

interface HeadersBinding {
  readonly destination: Destination;
  readonly mode: MatchMode;
  /** [key, expected value]; null expected (AMQP void) means "present with any value". */
  readonly pairs: ReadonlyArray<readonly [string, FieldValue]>;
  readonly id: string;
}

/**
 * Matches message headers against binding arguments, with RabbitMQ's
 * x-match values all / any / all-with-x / any-with-x: plain all/any ignore
 * binding arguments whose names start with "x-".
 */
export class HeadersExchange extends Exchange {
  private entries: HeadersBinding[] = [];

  route(_routingKey: string, properties: MessageProperties, sink: RouteSink): void {
    const headers = properties.headers;
    for (const entry of this.entries) {
      if (matches(entry, headers)) sink(entry.destination);
    }
  }

  protected index(binding: Binding): void {
    const xMatch = binding.args["x-match"];
    const withX = xMatch === "all-with-x" || xMatch === "any-with-x";
    const mode: MatchMode = xMatch === "any" || xMatch === "any-with-x" ? "any" : "all";
    const pairs = Object.entries(binding.args).filter(([key]) => key !== "x-match" && (withX || !key.startsWith("x-")));
    this.entries.push({ destination: binding.destination, mode, pairs, id: binding.id });
  }

  protected unindex(binding: Binding): void {
    this.entries = this.entries.filter((entry) => entry.id !== binding.id);
  }
}

function matches(entry: HeadersBinding, headers: FieldTable | undefined): boolean {
  // RabbitMQ: an empty match set is true for "all" and false for "any".
  if (entry.mode === "all") {
    for (const [key, expected] of entry.pairs) {
      if (!headers || !(key in headers) || !sameValue(expected, headers[key] as FieldValue)) return false;
    }
    return true;
  }
  if (!headers) return false;
  for (const [key, expected] of entry.pairs) {
    if (key in headers && sameValue(expected, headers[key] as FieldValue)) return true;
  }
  return false;
}

function sameValue(expected: FieldValue, actual: FieldValue): boolean {
  if (expected === null) return true;
  const a = scalar(expected);
  const b = scalar(actual);
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (typeof a === "object" && a !== null) return JSON.stringify(a) === JSON.stringify(b);
  // Erlang's == : 1 == 1.0, and an int64 compares with a number
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint"))
    return Number(a) === Number(b);
  return a === b;
}

const scalar = (value: FieldValue): FieldValue =>
  value instanceof TypedField && typeof value.value !== "object" ? value.value : value;
