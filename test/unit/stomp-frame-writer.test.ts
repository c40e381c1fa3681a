/**
 * The STOMP frame writer and the MESSAGE fast path (message-head.ts) write,
 * byte for byte, what the writer before issue 15 §3 wrote for the same
 * frames: a head string escaped per version, content-length, body, NUL, EOL.
 * The reference below is that writer, kept as it was.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Message, TypedField, type MessageProperties } from "../../src/core/message.js";
import { escapesHeaders, type StompVersion } from "../../src/stomp/frame.js";
import { StompFrameWriter, type HeaderList } from "../../src/stomp/frame-writer.js";
import { MessageHead, SERVER_HEADERS } from "../../src/stomp/message-head.js";
import { formatDestination } from "../../src/stomp/destinations.js";
import { headersFromProperties } from "../../src/stomp/properties.js";

const escape11 = (value: string): string =>
  /[\\\n:]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c") : value;
const escape12 = (value: string): string => (/[\\\n:\r]/.test(value) ? escape11(value).replace(/\r/g, "\\r") : value);

function referenceFrame(version: StompVersion, command: string, headers: HeaderList, body: Buffer | null): Buffer {
  const escape = escapesHeaders(version, command) ? (version === "1.2" ? escape12 : escape11) : (v: string) => v;
  let head = command + "\n";
  for (const [name, value] of headers) head += escape(name) + ":" + escape(value) + "\n";
  if (body !== null) head += "content-length:" + body.length + "\n";
  head += "\n";
  return Buffer.concat([Buffer.from(head, "utf8"), body ?? Buffer.alloc(0), Buffer.from("\0\n")]);
}

const VERSIONS: StompVersion[] = ["1.0", "1.1", "1.2"];
const TEXTS = ["plain", "a:b", "line\nbreak", "back\\slash", "cr\rhere", "ünïcødé €", "", "all:\\\n\r:"];
const BODIES: (Buffer | null)[] = [
  null,
  Buffer.alloc(0),
  Buffer.from("hello"),
  Buffer.from([0x61, 0x00, 0x62, 0x00]),
  Buffer.alloc(5000, 0x41),
];

test("frame() writes the pre-§3 writer's bytes: every version, escaping, CONNECTED unescaped, bodies with NUL, large bodies", () => {
  for (const version of VERSIONS)
    for (const command of ["MESSAGE", "RECEIPT", "ERROR", "CONNECTED"])
      for (const body of BODIES) {
        const headers: HeaderList = TEXTS.map((t, i) => [`h${i}${t}`, t] as const);
        const writer = new StompFrameWriter();
        writer.version = version;
        writer.frame(command, headers, body);
        writer.heartbeat();
        const expected = Buffer.concat([referenceFrame(version, command, headers, body), Buffer.from("\n")]);
        assert.equal(writer.length, expected.length);
        assert.deepEqual(Buffer.concat(writer.take()), expected, `${version} ${command} ${body?.length}`);
        assert.equal(writer.length, 0);
      }
});

const PROPERTIES: MessageProperties[] = [
  {},
  { deliveryMode: 2, contentType: "text/plain", priority: 3 },
  {
    headers: {
      "x-a": "1",
      "b:c": "v\nw",
      n: 42,
      typed: new TypedField("I", 7),
      skipped: 1.5,
      buf: Buffer.from("zz"),
      destination: "x",
    },
    appId: "app",
    userId: "guest",
    type: "t",
    timestamp: 1700000000,
    messageId: "m\\1",
    expiration: "60000",
    replyTo: "/temp-queue/r",
    correlationId: "c:1",
    contentEncoding: "gzip",
  },
];

/** The MESSAGE frame the pre-§3 deliver wrote: the head's header list, the properties' headers, the body. */
function referenceMessage(
  version: StompVersion,
  id: string | null,
  tag: string,
  session: string,
  acked: boolean,
  message: Message,
  deliveryTag: number,
  redelivered: boolean,
): Buffer {
  const messageId = `${tag}@@${session}@@${deliveryTag}`;
  const list: Array<readonly [string, string]> = [];
  if (id !== null) list.push(["subscription", id]);
  list.push(["destination", formatDestination(message.exchange, message.routingKey)]);
  list.push(["message-id", messageId]);
  list.push(["redelivered", redelivered ? "true" : "false"]);
  if (version === "1.2" && acked) list.push(["ack", messageId]);
  headersFromProperties(message.properties, { header: (n, v) => list.push([n, v]) }, SERVER_HEADERS);
  return referenceFrame(version, "MESSAGE", list, message.body);
}

const DESTINATIONS = [
  ["", "q/1"],
  ["amq.topic", "a.b"],
  ["ex", ""],
  ["ex", "k:é"],
] as const;

test("a MESSAGE from MessageHead is the pre-§3 deliver's frame, for every version and ack mode", () => {
  for (const version of VERSIONS)
    for (const id of ["0", "sub:1", null])
      for (const acked of [false, true])
        for (const properties of PROPERTIES)
          for (const [exchange, routingKey] of DESTINATIONS) {
            const tag = id === null ? "Q_/queue/q" : `T_${id}`;
            const session = "session-abc";
            const message = new Message(exchange, routingKey, properties, Buffer.from("body\0!"));
            const writer = new StompFrameWriter();
            writer.version = version;
            const head = new MessageHead(id, tag, session, version, acked);
            let expected = Buffer.alloc(0);
            // Four deliveries: header by header, then from the template made at the second, then from it again.
            for (const [deliveryTag, redelivered] of [
              [7, false],
              [12345, true],
              [9, false],
              [10, true],
            ] as const) {
              head.write(writer, message, deliveryTag, redelivered);
              expected = Buffer.concat([
                expected,
                referenceMessage(version, id, tag, session, acked, message, deliveryTag, redelivered),
              ]);
            }
            assert.deepEqual(
              Buffer.concat(writer.take()),
              expected,
              `${version} ${id} ${acked} ${exchange}/${routingKey}`,
            );
          }
});

test("the MESSAGE template follows the message: destination, properties (by object and by AMQP bytes), body sizes", () => {
  const bodies = [0, 1, 64, 1024, 1025, 4095, 4096, 70_000].map((n) => Buffer.alloc(n, 0x61 + (n % 26)));
  bodies.push(Buffer.from([0, 0, 0x0a, 0]));
  const encoded = Buffer.from([0x80, 0x00, 0x0a, 0x74, 0x65, 0x78, 0x74]);
  for (const version of VERSIONS)
    for (const acked of [false, true]) {
      const head = new MessageHead("s", "T_s", "session-x", version, acked);
      const writer = new StompFrameWriter();
      writer.version = version;
      let expected = Buffer.alloc(0);
      let deliveryTag = 1;
      const send = (message: Message, redelivered = false): void => {
        head.write(writer, message, deliveryTag, redelivered);
        expected = Buffer.concat([
          expected,
          referenceMessage(version, "s", "T_s", "session-x", acked, message, deliveryTag, redelivered),
        ]);
        // Tags of every length, up to 2^53.
        deliveryTag = deliveryTag < 1e15 ? deliveryTag * 7 + 3 : Number.MAX_SAFE_INTEGER;
      };
      const shared = PROPERTIES[2] as MessageProperties;
      for (const body of bodies) send(new Message("ex", "k", shared, body));
      // Another destination with the same properties; back again; redelivered.
      send(new Message("amq.topic", "x.y", shared, bodies[2] as Buffer), true);
      send(new Message("ex", "k", shared, bodies[1] as Buffer));
      // Other properties, one message only: written header by header, then the template again.
      send(new Message("ex", "k", { contentType: "other" }, bodies[1] as Buffer));
      send(new Message("ex", "k", shared, bodies[1] as Buffer));
      // A new properties object each time with equal AMQP bytes (an AMQP publisher) makes and keeps the template,
      // and one with other bytes does not.
      for (let i = 0; i < 3; i++)
        send(new Message("ex", "k", { contentType: "text" }, bodies[2] as Buffer, Buffer.from(encoded)));
      send(new Message("ex", "k", { contentType: "changed" }, bodies[2] as Buffer, Buffer.from([0x80, 0, 1, 0x7a])));
      send(new Message("ex", "k", { contentType: "changed" }, bodies[2] as Buffer, Buffer.from([0x80, 0, 1, 0x7a])));
      assert.deepEqual(Buffer.concat(writer.take()), expected, `${version} ${acked}`);
    }
});
