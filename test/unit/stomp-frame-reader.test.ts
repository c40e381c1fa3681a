/**
 * The STOMP frame reader fed the same bytes whole, split at every offset,
 * cut into three at nearby offsets, and one byte at a time: a frame is the same
 * frame however the socket cut it (CONVENTIONS.md #10), and so is an error.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { StompVersion } from "../../src/stomp/frame.js";
import { StompFrameReader, type StompReaderLimits } from "../../src/stomp/frame-reader.js";

type Event = { command: string; headers: [string, string][]; body: string } | { error: string; detail: string };

const LIMITS: StompReaderLimits = { maxHeaderBytes: 1024, maxHeaders: 16, maxBodyBytes: 4096 };

function parse(chunks: readonly Buffer[], version: StompVersion = "1.2", limits = LIMITS): Event[] {
  const events: Event[] = [];
  const reader = new StompFrameReader(
    {
      // Bodies may be views of a chunk the socket reuses: copy what we keep.
      onFrame: (frame) =>
        events.push({ command: frame.command, headers: [...frame.headers], body: frame.body.toString("latin1") }),
      onFrameError: (error, detail) => events.push({ error, detail }),
    },
    limits,
  );
  reader.version = version;
  for (const chunk of chunks) reader.push(chunk);
  return events;
}

const splitAt = (bytes: Buffer, ...cuts: number[]): Buffer[] => {
  const out: Buffer[] = [];
  let from = 0;
  // Copies, so that no chunk is a view of its neighbour.
  for (const cut of [...cuts, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
};

/** Several frames back to back with heart-beat EOLs between them, sized and unsized bodies, escapes, NULs in a sized body. */
const SESSION = Buffer.concat([
  Buffer.from("CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0"),
  Buffer.from("\n\r\n\n"),
  Buffer.from("SUBSCRIBE\r\nid:0\r\ndestination:/queue/a\\cb\r\nack:client\r\n\r\n\0"),
  Buffer.from("SEND\ndestination:/queue/ab\ncontent-length:7\n\nx\0y\0z\n\0\0"),
  Buffer.from("\n"),
  Buffer.from("SEND\ndestination:/topic/t\nx-key:line\\nbreak\nx-key:second value is dropped\n\nopen body\n\0"),
  Buffer.from("DISCONNECT\nreceipt:77\n\n\0"),
]);

const EXPECTED: Event[] = [
  {
    command: "CONNECT",
    headers: [
      ["accept-version", "1.2"],
      ["host", "/"],
      ["login", "guest"],
      ["passcode", "guest"],
    ],
    body: "",
  },
  {
    command: "SUBSCRIBE",
    headers: [
      ["id", "0"],
      ["destination", "/queue/a:b"],
      ["ack", "client"],
    ],
    body: "",
  },
  {
    command: "SEND",
    headers: [
      ["destination", "/queue/ab"],
      ["content-length", "7"],
    ],
    body: "x\0y\0z\n\0",
  },
  {
    command: "SEND",
    headers: [
      ["destination", "/topic/t"],
      ["x-key", "line\nbreak"],
    ],
    body: "open body\n",
  },
  { command: "DISCONNECT", headers: [["receipt", "77"]], body: "" },
];

test("a session read in one chunk gives each frame with its headers unescaped and its body exact", () => {
  assert.deepEqual(parse([SESSION]), EXPECTED);
});

test("the session split at every offset gives the same frames", () => {
  for (let cut = 0; cut <= SESSION.length; cut++) {
    assert.deepEqual(parse(splitAt(SESSION, cut)), EXPECTED, `split at ${cut}`);
  }
});

test("the session cut into three at every pair of nearby offsets gives the same frames", () => {
  // A short middle chunk is the hard case (a head or a CR LF pair spread over three reads); all pairs cost ~7 s.
  for (let a = 1; a < SESSION.length; a++) {
    for (let b = a + 1; b < Math.min(a + 12, SESSION.length); b++) {
      const events = parse(splitAt(SESSION, a, b));
      // deepEqual per pair costs more than the parse; compare cheaply, explain only on failure.
      if (JSON.stringify(events) !== JSON.stringify(EXPECTED))
        assert.deepEqual(events, EXPECTED, `split at ${a} and ${b}`);
    }
  }
});

test("the session fed one byte at a time gives the same frames", () => {
  const bytes = [...SESSION].map((byte) => Buffer.from([byte]));
  assert.deepEqual(parse(bytes), EXPECTED);
});

test("STOMP 1.0 leaves backslashes in header values as they are", () => {
  const frame = Buffer.from("SEND\ndestination:/queue/a\\cb\n\n\0");
  for (let cut = 0; cut <= frame.length; cut++) {
    assert.deepEqual(parse(splitAt(frame, cut), "1.0"), [
      { command: "SEND", headers: [["destination", "/queue/a\\cb"]], body: "" },
    ]);
  }
});

/** Each error is reported once, the same wherever the input was cut, and nothing after it is read. */
function assertSameErrorAtEverySplit(bytes: Buffer, expected: Event[], limits = LIMITS): void {
  assert.deepEqual(parse([bytes], "1.2", limits), expected, "in one chunk");
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(parse(splitAt(bytes, cut), "1.2", limits), expected, `split at ${cut}`);
  }
}

const trailing = Buffer.from("SEND\ndestination:/queue/after\n\nnever read\0");

test("an undefined escape sequence is an error and stops the reader [STOMP 1.2 Value Encoding]", () => {
  assertSameErrorAtEverySplit(Buffer.concat([Buffer.from("SEND\ndestination:/queue/a\\t\n\n\0"), trailing]), [
    { error: "Invalid frame", detail: "invalid escape sequence in header line 'destination:/queue/a\\t'" },
  ]);
});

test("a header line without a colon is an error", () => {
  assertSameErrorAtEverySplit(Buffer.concat([Buffer.from("SEND\nno colon here\n\n\0"), trailing]), [
    { error: "Invalid frame", detail: "header line 'no colon here' has no ':'" },
  ]);
});

test("a body longer than its content-length is an error", () => {
  assertSameErrorAtEverySplit(Buffer.concat([Buffer.from("SEND\ncontent-length:2\n\nabc\0"), trailing]), [
    { error: "Invalid frame", detail: "frame body is longer than its content-length header" },
  ]);
});

test("a content-length that is not a number is an error", () => {
  assertSameErrorAtEverySplit(Buffer.concat([Buffer.from("SEND\ncontent-length:-1\n\n\0"), trailing]), [
    { error: "Invalid frame", detail: "invalid content-length header '-1'" },
  ]);
});

test("a head larger than maxHeaderBytes is refused before its end arrives", () => {
  const limits = { ...LIMITS, maxHeaderBytes: 64 };
  const head = Buffer.from(`SEND\nx-big:${"a".repeat(100)}\n\n\0`);
  assertSameErrorAtEverySplit(
    Buffer.concat([head, trailing]),
    [{ error: "Invalid frame", detail: "frame headers exceed 64 bytes" }],
    limits,
  );
  // Without its blank line the head never ends: the reader must not wait (and buffer) for ever.
  assert.deepEqual(parse([Buffer.from(`SEND\nx-big:${"a".repeat(100)}`)], "1.2", limits), [
    { error: "Invalid frame", detail: "frame headers exceed 64 bytes" },
  ]);
});

test("more headers than maxHeaders is an error", () => {
  const limits = { ...LIMITS, maxHeaders: 3 };
  const head = Buffer.from("SEND\na:1\nb:2\nc:3\nd:4\n\n\0");
  assertSameErrorAtEverySplit(
    Buffer.concat([head, trailing]),
    [{ error: "Invalid frame", detail: "frame has more than 3 headers" }],
    limits,
  );
});

test("a body past maxBodyBytes is refused, with or without content-length, before it is buffered whole", () => {
  const limits = { ...LIMITS, maxBodyBytes: 16 };
  const tooLarge: Event[] = [{ error: "Invalid frame", detail: "frame body exceeds the maximum of 16 bytes" }];
  assertSameErrorAtEverySplit(Buffer.from("SEND\ncontent-length:17\n\n"), tooLarge, limits);
  assertSameErrorAtEverySplit(Buffer.from(`SEND\n\n${"b".repeat(17)}`), tooLarge, limits);
  // Exactly at the limit is accepted.
  assert.deepEqual(parse([Buffer.from(`SEND\n\n${"b".repeat(16)}\0`)], "1.2", limits), [
    { command: "SEND", headers: [], body: "b".repeat(16) },
  ]);
});
