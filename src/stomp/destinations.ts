import { StompError } from "./errors.js";

/**
 * A parsed STOMP destination, as RabbitMQ's STOMP plugin understands them
 * (rabbit_stomp_util:parse_destination/1).
 */
export type Destination =
  | { kind: "exchange"; name: string; pattern: string | null }
  | { kind: "queue" | "amqqueue" | "topic" | "temp_queue" | "reply_queue"; name: string };

// Checked in this order, as RabbitMQ does; note "/queue" has no trailing slash there either.
const SIMPLE_PREFIXES: ReadonlyArray<readonly [string, Destination["kind"]]> = [
  ["/queue", "queue"],
  ["/topic", "topic"],
  ["/amq/queue", "amqqueue"],
  ["/temp-queue", "temp_queue"],
];
const REPLY_QUEUE_PREFIX = "/reply-queue/";
const EXCHANGE_PREFIX = "/exchange";

/** Prefixes a reply-to may already carry; any other reply-to is shown as /reply-queue/<it>. */
const DESTINATION_PREFIXES = ["/exchange", "/topic", "/queue", "/amq/queue", "/temp-queue", "/reply-queue/"];

export function parseDestination(raw: string): Destination {
  for (const [prefix, kind] of SIMPLE_PREFIXES) {
    if (!raw.startsWith(prefix)) continue;
    const rest = raw.slice(prefix.length);
    const parts = splitContent(rest);
    if (parts.length !== 1 || parts[0] === "") throw invalidDestination(kind, rest);
    return { kind, name: parts[0] as string } as Destination;
  }
  // Reply queue names (amq.gen-...) may contain slashes: taken verbatim.
  if (raw.startsWith(REPLY_QUEUE_PREFIX)) return { kind: "reply_queue", name: raw.slice(REPLY_QUEUE_PREFIX.length) };
  if (raw.startsWith(EXCHANGE_PREFIX)) {
    const rest = raw.slice(EXCHANGE_PREFIX.length);
    const parts = splitContent(rest);
    // The default exchange cannot be named this way: it means something else for SEND and SUBSCRIBE.
    if (parts.length === 0 || parts.length > 2 || parts[0] === "") throw invalidDestination("exchange", rest);
    return { kind: "exchange", name: parts[0] as string, pattern: parts[1] ?? null };
  }
  throw new StompError(
    "Unknown destination",
    `'${raw}' is not a valid destination.\n` +
      "Valid destination types are: /temp-queue, /exchange, /topic, /queue, /amq/queue, /reply-queue/.\n",
  );
}

function splitContent(content: string): string[] {
  const trimmed = content.startsWith("/") ? content.slice(1) : content;
  if (trimmed === "") return [""];
  return trimmed.split("/").map((part) => part.replace(/%2F/g, "/"));
}

const invalidDestination = (kind: string, rest: string): StompError =>
  new StompError("Invalid destination", `'${rest}' is not a valid ${kind} destination\n`);

export const notValidFor = (raw: string, command: string): StompError =>
  new StompError("Invalid destination", `'${raw}' is not a valid destination for '${command}'\n`);

/** The `destination` header of a MESSAGE, from where the message was published (format_destination/2). */
export function formatDestination(exchange: string, routingKey: string): string {
  if (exchange === "") return `/queue/${escapeDestination(routingKey)}`;
  if (exchange === "amq.topic") return `/topic/${escapeDestination(routingKey)}`;
  if (routingKey === "") return `/exchange/${escapeDestination(exchange)}`;
  return `/exchange/${escapeDestination(exchange)}/${escapeDestination(routingKey)}`;
}

/** '/' and '%' are percent-encoded; so are bytes outside printable ASCII. */
function escapeDestination(value: string): string {
  if (!/[/%\u0000-\u001f\u0080-\uffff]/.test(value)) return value;
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    if (byte === 0x2f || byte === 0x25 || byte < 32 || byte > 127)
      out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    else out += String.fromCharCode(byte);
  }
  return out;
}

export function replyToHeader(value: string): string {
  return DESTINATION_PREFIXES.some((prefix) => value.startsWith(prefix)) ? value : `${REPLY_QUEUE_PREFIX}${value}`;
}
