/**
 * Structure-aware inputs: frames with a valid envelope (or a length at a
 * boundary) around random or mutated contents, so that cases get past the
 * first length check and into the parsers and handlers behind it.
 */
import { randomBytes } from "node:crypto";
import { AMQP_PROTOCOL_HEADER } from "../../src/amqp/codec/frame-reader.js";
import { BOUNDARY_LENGTHS, mutateSome, type Random } from "./random.js";

/** Splits an AMQP byte stream (after the protocol header) into whole frames. */
export function amqpFrames(session: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = session.subarray(0, 4).toString("latin1") === "AMQP" ? 8 : 0;
  while (at + 7 <= session.length) {
    const size = session.readUInt32BE(at + 3);
    frames.push(session.subarray(at, at + 8 + size));
    at += 8 + size;
  }
  return frames;
}

export function amqpFrame(type: number, channel: number, payload: Buffer, size = payload.length, end = 0xce): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type & 0xff, 0);
  head.writeUInt16BE(channel & 0xffff, 1);
  head.writeUInt32BE(size >>> 0, 3);
  return Buffer.concat([head, payload, Buffer.from([end])]);
}

/** The client's handshake from a captured session, then frames with mutated payloads, methods of every class, odd sizes. */
export function generateAmqp(random: Random, session: Buffer): Buffer {
  const frames = amqpFrames(session);
  const handshake = frames.slice(0, 3 + random.int(2)); // start-ok, tune-ok, open, maybe channel.open
  const out: Buffer[] = [AMQP_PROTOCOL_HEADER, ...handshake];
  for (let n = 1 + random.int(6); n > 0; n--) {
    const kind = random.int(5);
    if (kind === 0) {
      // a real frame with its payload mutated, envelope kept consistent
      const frame = random.pick(frames);
      const payload = mutateSome(random, frame.subarray(7, frame.length - 1));
      out.push(amqpFrame(frame[0] as number, frame.readUInt16BE(1), payload));
    } else if (kind === 1) {
      // any class/method id with random arguments
      const payload = Buffer.concat([Buffer.alloc(4), random.bytes(random.pick(BOUNDARY_LENGTHS.slice(0, 8)))]);
      payload.writeUInt16BE(random.pick([10, 20, 40, 50, 60, 85, 90, random.int(65536)]), 0);
      payload.writeUInt16BE(
        random.pick([10, 11, 20, 21, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, random.int(65536)]),
        2,
      );
      out.push(amqpFrame(1, random.pick([0, 1, 2, 65535]), payload));
    } else if (kind === 2) {
      // a content header declaring a body size at a boundary, then some body
      const header = Buffer.alloc(14);
      header.writeUInt16BE(60, 0);
      header.writeBigUInt64BE(BigInt(random.pick([0, 1, 4096, 131072, 2 ** 32, 2 ** 53])), 4);
      header.writeUInt16BE(random.int(65536), 12);
      out.push(amqpFrame(2, 1, Buffer.concat([header, random.bytes(random.int(40))])));
      out.push(amqpFrame(3, 1, random.bytes(random.pick(BOUNDARY_LENGTHS.slice(0, 10)))));
    } else if (kind === 3) {
      // a size field that lies (bigger than what follows, or past frame_max)
      const payload = random.bytes(random.int(32));
      out.push(
        amqpFrame(random.pick([1, 2, 3, 8]), 1, payload, random.pick([payload.length + 1, 131072, 0xffffffff, 0])),
      );
    } else {
      // a heart-beat, or a frame of an unknown type, or a bad frame-end
      out.push(
        amqpFrame(random.pick([8, 4, 0, 255]), random.pick([0, 1]), Buffer.alloc(0), 0, random.chance(0.7) ? 0xce : 0),
      );
    }
  }
  return Buffer.concat(out);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0 && bytes.length < 5);
  return Buffer.from(bytes);
}

/** Splits an MQTT byte stream into packets by their remaining-length varints. */
export function mqttPackets(session: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let at = 0;
  while (at + 2 <= session.length) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (; i < session.length && i < at + 5; i++) {
      const byte = session[i] as number;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) break;
    }
    packets.push(session.subarray(at, i + 1 + length));
    at = i + 1 + length;
  }
  return packets;
}

/** CONNECT from a captured session, then packets of every type with mutated bodies and boundary lengths. */
export function generateMqtt(random: Random, session: Buffer): Buffer {
  const packets = mqttPackets(session);
  const out: Buffer[] = [packets[0] ?? Buffer.alloc(0)];
  for (let n = 1 + random.int(6); n > 0; n--) {
    const model = random.pick(packets);
    const body = model.subarray(model.length - Math.min(model.length - 2, random.int(model.length)));
    const first = random.chance(0.8) ? (model[0] as number) : (random.int(16) << 4) | random.int(16);
    const payload = random.chance(0.5)
      ? mutateSome(random, body)
      : random.bytes(random.pick(BOUNDARY_LENGTHS.slice(0, 9)));
    const declared = random.chance(0.8) ? payload.length : random.pick([0, 127, 128, 16384, 268435455]);
    out.push(Buffer.concat([Buffer.from([first]), varint(declared), payload]));
  }
  return Buffer.concat(out);
}

const STOMP_COMMANDS = [
  "CONNECT",
  "STOMP",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
];
const STOMP_HEADERS = [
  "destination",
  "id",
  "ack",
  "receipt",
  "transaction",
  "content-length",
  "content-type",
  "heart-beat",
  "accept-version",
  "host",
  "login",
  "passcode",
  "persistent",
  "reply-to",
  "expiration",
  "priority",
  "x-queue-name",
  "durable",
  "auto-delete",
  "exclusive",
  "x-max-length",
  "message-id",
  "subscription",
  "requeue",
  "prefetch-count",
];
const STOMP_VALUES = [
  "/queue/q",
  "/topic/a.b",
  "/exchange/amq.topic/#",
  "/amq/queue/x",
  "/temp-queue/t",
  "/reply-queue/r",
  "client",
  "client-individual",
  "auto",
  "1.0,1.1,1.2",
  "1.2",
  "0,0",
  "10,10",
  "guest",
  "/",
  "true",
  "false",
  "-1",
  "4294967296",
  "",
  "\\c\\n\\\\",
  "\\t",
];

export function generateStomp(random: Random): Buffer {
  const frames: Buffer[] = [
    Buffer.from("CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0"),
  ];
  for (let n = 1 + random.int(6); n > 0; n--) {
    const lines = [random.chance(0.9) ? random.pick(STOMP_COMMANDS) : random.text(random.int(12))];
    const body = random.chance(0.5) ? Buffer.alloc(0) : random.bytes(random.pick(BOUNDARY_LENGTHS.slice(0, 8)));
    for (let h = random.int(8); h > 0; h--) {
      const name = random.chance(0.9) ? random.pick(STOMP_HEADERS) : random.text(random.int(10));
      const value =
        name === "content-length" && random.chance(0.6)
          ? String(random.chance(0.5) ? body.length : random.pick([0, 1, body.length + 1, 2 ** 31, 2 ** 53]))
          : random.chance(0.7)
            ? random.pick(STOMP_VALUES)
            : random.text(random.pick([0, 1, 8, 300]));
      lines.push(`${name}:${value}`);
    }
    const eol = random.chance(0.8) ? "\n" : "\r\n";
    frames.push(Buffer.from(lines.join(eol) + eol + eol), body, Buffer.from(random.chance(0.9) ? "\0" : ""));
    if (random.chance(0.2)) frames.push(Buffer.from(random.pick(["\n", "\r\n", "\0", "\n\n\n"])));
  }
  return Buffer.concat(frames);
}

/** The handshake a browser sends for `path` (RFC 6455 §4.1), as one request. */
export function webSocketHandshake(path: string, protocols: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: ${protocols}\r\n\r\n`,
  );
}

/** One client frame (RFC 6455 §5.2): masked as clients must, length in the shortest or a needlessly long form. */
export function webSocketFrame(
  opcode: number,
  payload: Buffer,
  options: {
    fin?: boolean;
    mask?: boolean;
    rsv?: number;
    longForm?: boolean;
    declared?: number;
    maskKey?: Buffer;
  } = {},
): Buffer {
  const mask = options.mask ?? true;
  const length = options.declared ?? payload.length;
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f)];
  let extended = Buffer.alloc(0);
  if (length < 126 && !options.longForm) head.push((mask ? 0x80 : 0) | length);
  else if (length < 65536 && !options.longForm) {
    head.push((mask ? 0x80 : 0) | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push((mask ? 0x80 : 0) | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(length));
  }
  const key = mask ? (options.maskKey ?? randomBytes(4)) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

/** A protocol session carried in WebSocket frames, some split, some control frames, odd flags and lengths. */
export function generateWebSocket(random: Random, handshake: Buffer, inner: Buffer): Buffer {
  const out: Buffer[] = [handshake];
  // Mask keys from the case's own Random: a case is then reproducible from (seed, index), and
  // crypto's randomBytes per frame was the generator's largest cost (~1.6 ms a case).
  const frame = (opcode: number, payload: Buffer, options: Parameters<typeof webSocketFrame>[2] = {}): Buffer =>
    webSocketFrame(opcode, payload, { ...options, maskKey: random.bytes(4) });
  let at = 0;
  while (at < inner.length) {
    const size = 1 + random.int(Math.min(inner.length - at, random.pick([8, 64, 300, 70000])));
    const piece = inner.subarray(at, at + size);
    at += size;
    const odd = random.int(12);
    if (odd === 0)
      out.push(frame(random.pick([9, 10]), random.bytes(random.int(130)))); // ping/pong, sometimes too long
    else if (odd === 1)
      out.push(frame(0, piece, { fin: random.chance(0.5) })); // continuation without a start
    else if (odd === 2) out.push(frame(random.int(16), piece, { rsv: random.int(8) }));
    else if (odd === 3) out.push(frame(2, piece, { mask: false }));
    else if (odd === 4) out.push(frame(2, piece, { declared: random.pick([piece.length + 1, 2 ** 31, 2 ** 53]) }));
    else if (odd === 5) out.push(frame(2, piece, { longForm: true }));
    else if (odd === 6)
      out.push(frame(1, piece)); // text: invalid UTF-8 in binary MQTT must close, not crash
    else out.push(frame(2, piece, { fin: random.chance(0.9) }));
  }
  if (random.chance(0.3)) out.push(frame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), random.bytes(random.int(4))])));
  return Buffer.concat(out);
}

const HTTP_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "G\0T"];
const HTTP_PATHS = [
  "/api/overview",
  "/api/queues",
  "/api/queues/%2F",
  "/api/queues/%2F/fuzzq",
  "/api/queues/%2F/fuzzq/get",
  "/api/exchanges/%2F/amq.default/publish",
  "/api/exchanges/%2F/fuzzx",
  "/api/bindings/%2F/e/amq.topic/q/fuzzq",
  "/api/vhosts/fuzzvhost",
  "/api/policies/%2F/fuzzp",
  "/api/definitions",
  "/api/connections",
  "/api/channels",
  "/api/nodes",
  "/api/whoami",
  "/api/healthchecks/node",
  "/metrics",
  "/metrics/per-object",
  "/",
  "/index.html",
  "/api/queues?page=1&page_size=10&name=a&use_regex=true",
  "/api/permissions/fuzzvhost/fuzzer",
  "/api/%",
  "/api/..%2f..%2f",
];
const JSON_VALUES = [
  "{}",
  "[]",
  "null",
  '{"durable":true,"arguments":{"x-max-length":1}}',
  '{"pattern":".*","definition":{"max-length":5}}',
  '{"properties":{"headers":{"a":{"b":[1,2,{"c":null}]}}},"routing_key":"fuzzq","payload":"x","payload_encoding":"string"}',
  '{"type":"topic","arguments":{"alternate-exchange":7}}',
  '{"configure":"(a+)+$","write":".*","read":".*"}',
  '"\\ud800"',
  "1e309",
];

/** RFC 9110 §5.6.2 token characters: a header name made of them gets past Node's parser. */
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function token(random: Random, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += TOKEN_CHARS[random.int(TOKEN_CHARS.length)];
  return out;
}

/** An extra header: mostly well-formed, sometimes with characters Node's parser refuses (400). */
function extraHeader(random: Random): string {
  if (random.chance(0.1))
    return `X-${random.text(1 + random.int(8)).replace(/[\r\n:]/g, "")}: ${random.text(random.int(20)).replace(/[\r\n]/g, "")}`;
  return `X-${token(random, 1 + random.int(8))}: ${token(random, random.int(20))}`;
}

/** Credentials that do not log in: a wrong password, an unknown user, no colon, bad base64, another scheme, none. */
function wrongAuthorization(random: Random): string | null {
  const basic = (text: string): string => `Basic ${Buffer.from(text).toString("base64")}`;
  return random.pick([
    basic("fuzzer:wrong"),
    basic(`nobody:${random.text(random.int(12))}`),
    basic("fuzzer"),
    "Basic %%%",
    "Bearer x",
    null,
  ]);
}

/**
 * A request to the management API: known paths, mutated JSON, odd lengths and
 * chunking; most as the fuzzer user (`authorization`), a share with
 * credentials that fail (targets.ts sends those from other loopback
 * addresses: the failed-login delay is per address).
 */
export function generateHttp(random: Random, authorization: string): Buffer {
  const method = random.pick(HTTP_METHODS);
  const path = random.chance(0.85)
    ? random.pick(HTTP_PATHS)
    : `/api/${random.chance(0.7) ? token(random, random.int(40)) : random.text(random.int(40))}`;
  let body: Buffer = Buffer.from(random.pick(JSON_VALUES));
  if (random.chance(0.5)) body = mutateSome(random, body);
  const credentials = random.chance(0.9) ? authorization : wrongAuthorization(random);
  const headers = [`Host: 127.0.0.1`, ...(credentials === null ? [] : [`Authorization: ${credentials}`])];
  headers.push(
    `Content-Type: ${random.pick(["application/json", "text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=utf-16"])}`,
  );
  if (random.chance(0.3)) headers.push(`Origin: ${random.pick(["http://evil.example", "null", "http://127.0.0.1"])}`);
  for (let n = random.int(3); n > 0; n--) headers.push(extraHeader(random));
  let encoded: Buffer;
  if (random.chance(0.2)) {
    headers.push("Transfer-Encoding: chunked");
    const size = random.chance(0.8) ? body.length.toString(16) : random.pick(["ffffffff", "-1", "zz", "0"]);
    encoded = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
  } else {
    headers.push(
      `Content-Length: ${random.chance(0.85) ? body.length : random.pick([0, body.length + 1, 2 ** 31, -1])}`,
    );
    encoded = body;
  }
  return Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`),
    method === "GET" || method === "HEAD" ? Buffer.alloc(0) : encoded,
  ]);
}
