/**
 * The head parser keeps the last head and reuses what repeats (frame-head.ts).
 * Here its frames are compared with a reference parser, the reader's head
 * parsing before issue 15 §3 step 2 (the whole head decoded as one string,
 * cut at line ends), over random sessions of heads that repeat, differ in
 * one value, one name, one line's length, with escapes (valid and not),
 * CR LF, repeated headers, UTF-8 (valid and not), CONNECT (never unescaped)
 * between SENDs with the same header bytes, and lines without a colon. Each
 * session is read whole, split at random offsets, and one byte at a time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { escapesHeaders, type StompVersion } from "../../src/stomp/frame.js";
import { StompFrameReader, unescapeHeader, type StompReaderLimits } from "../../src/stomp/frame-reader.js";

type Event = { command: string; headers: [string, string][]; body: string } | { error: string; detail: string };

const LIMITS: StompReaderLimits = { maxHeaderBytes: 4096, maxHeaders: 8, maxBodyBytes: 4096 };

function read(chunks: readonly Buffer[], version: StompVersion, limits = LIMITS): { events: Event[]; heads: object[] } {
  const events: Event[] = [];
  const heads: object[] = [];
  const reader = new StompFrameReader(
    {
      onFrame: (frame) => {
        heads.push(frame.headers);
        events.push({ command: frame.command, headers: [...frame.headers], body: frame.body.toString("latin1") });
      },
      onFrameError: (error, detail) => events.push({ error, detail }),
    },
    limits,
  );
  reader.version = version;
  for (const chunk of chunks) reader.push(chunk);
  return { events, heads };
}

/** The head parsing the reader had before this change, on whole input (no limits but maxHeaders). */
function reference(bytes: Buffer, version: StompVersion, maxHeaderBytes = LIMITS.maxHeaderBytes): Event[] {
  const events: Event[] = [];
  let offset = 0;
  for (;;) {
    while (offset < bytes.length && (bytes[offset] === 0x0a || bytes[offset] === 0x0d || bytes[offset] === 0)) offset++;
    if (offset >= bytes.length) return events;
    let end = -1;
    for (let lineStart = offset, i = offset; i < bytes.length; i++) {
      if (bytes[i] !== 0x0a) continue;
      const blank = i === lineStart || (i === lineStart + 1 && bytes[lineStart] === 0x0d);
      if (blank && lineStart > offset) {
        end = i + 1;
        break;
      }
      lineStart = i + 1;
    }
    if (end < 0) return events;
    if (end - offset > maxHeaderBytes) {
      events.push({ error: "Invalid frame", detail: `frame headers exceed ${maxHeaderBytes} bytes` });
      return events;
    }
    const text = bytes.toString("utf8", offset, end);
    let lf = text.indexOf("\n");
    const command = text.slice(0, lf > 0 && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf);
    const headers = new Map<string, string>();
    const unescape = escapesHeaders(version, command) && text.includes("\\");
    let pos = lf + 1;
    while (pos < text.length) {
      lf = text.indexOf("\n", pos);
      const lineEnd = lf > pos && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
      if (lineEnd === pos) break;
      const colon = text.indexOf(":", pos);
      if (colon < 0 || colon >= lineEnd) {
        events.push({ error: "Invalid frame", detail: `header line '${text.slice(pos, lineEnd)}' has no ':'` });
        return events;
      }
      if (headers.size >= LIMITS.maxHeaders) {
        events.push({ error: "Invalid frame", detail: `frame has more than ${LIMITS.maxHeaders} headers` });
        return events;
      }
      let name = text.slice(pos, colon);
      let value = text.slice(colon + 1, lineEnd);
      if (unescape) {
        const n = unescapeHeader(name, version);
        const v = unescapeHeader(value, version);
        if (n === null || v === null) {
          events.push({
            error: "Invalid frame",
            detail: `invalid escape sequence in header line '${text.slice(pos, lineEnd)}'`,
          });
          return events;
        }
        name = n;
        value = v;
      }
      if (!headers.has(name)) headers.set(name, value);
      pos = lf + 1;
    }
    const length = headers.get("content-length");
    let body: Buffer;
    if (length !== undefined) {
      body = bytes.subarray(end, end + Number(length));
      offset = end + Number(length) + 1;
    } else {
      const nul = bytes.indexOf(0, end);
      body = bytes.subarray(end, nul);
      offset = nul + 1;
    }
    events.push({ command, headers: [...headers], body: body.toString("latin1") });
  }
}

/** A small deterministic generator (xorshift), so that a failure names its seed. */
function random(seed: number): (n: number) => number {
  let x = seed | 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const COMMANDS = ["SEND", "SEND", "SEND", "ACK", "NACK", "CONNECT", "SUBSCRIBE", "SÉND"];
const NAMES = ["destination", "id", "receipt", "x-k", "a\\cb", "ключ", "persistent", "content-type"];
const VALUES = [
  "/queue/a",
  "/queue/ab",
  "T_0@@session-abc@@1",
  "T_0@@session-abc@@12",
  "T_0@@session-abc@@13",
  "line\\nbreak",
  "back\\\\slash",
  "cr\\rhere",
  "bad\\tescape",
  "ünïcødé €",
  "",
  "a:b:c",
];
const INVALID_UTF8 = Buffer.from([0x76, 0xc3, 0x28, 0xe2, 0x82]);

function session(next: (n: number) => number, bodies = ["", "x", "with\0nul"]): Buffer {
  const frames: Buffer[] = [];
  let previous: Buffer | null = null;
  for (let f = 0; f < 12; f++) {
    // Half the time the previous head again, or with one value changed.
    if (previous !== null && next(2) === 0) {
      frames.push(previous);
      continue;
    }
    const eol = next(4) === 0 ? "\r\n" : "\n";
    const parts: Buffer[] = [Buffer.from(COMMANDS[next(COMMANDS.length)] + eol)];
    const count = next(5);
    for (let h = 0; h < count; h++) {
      const name = NAMES[next(NAMES.length)] as string;
      if (next(40) === 0) parts.push(Buffer.from(`no colon${eol}`));
      else if (next(25) === 0) parts.push(Buffer.concat([Buffer.from(`${name}:`), INVALID_UTF8, Buffer.from(eol)]));
      else parts.push(Buffer.from(`${name}:${VALUES[next(VALUES.length)]}${eol}`));
    }
    const body = bodies[next(bodies.length)] as string;
    if (body.includes("\0") || next(2) === 0)
      parts.push(Buffer.from(`content-length:${Buffer.byteLength(body)}${eol}`));
    parts.push(Buffer.from(eol), Buffer.from(body), Buffer.from("\0"), Buffer.from(next(3) === 0 ? "\n" : ""));
    previous = Buffer.concat(parts);
    frames.push(previous);
  }
  return Buffer.concat(frames);
}

test("random sessions of repeated and changed heads give the reference parser's frames, however they are cut", () => {
  for (let seed = 1; seed <= 400; seed++) {
    const next = random(seed);
    const bytes = session(next);
    for (const version of ["1.0", "1.1", "1.2"] as const) {
      const expected = reference(bytes, version);
      assert.deepEqual(read([bytes], version).events, expected, `seed ${seed} ${version} whole`);
      const cuts = [next(bytes.length), next(bytes.length), next(bytes.length)].sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        pieces.push(Buffer.from(bytes.subarray(from, cut)));
        from = cut;
      }
      assert.deepEqual(read(pieces, version).events, expected, `seed ${seed} ${version} cut at ${cuts.join(",")}`);
      if (seed % 20 === 0) {
        const bytewise = [...bytes].map((byte) => Buffer.from([byte]));
        assert.deepEqual(read(bytewise, version).events, expected, `seed ${seed} ${version} byte by byte`);
      }
    }
  }
});

test("a repeated head is the same headers object; a changed value, name or escaping rule is not", () => {
  const send = "SEND\ndestination:/queue/a\\cb\ncontent-length:1\n\nx\0";
  const { events, heads } = read(
    [
      Buffer.from(send + send),
      Buffer.from("SEND\ndestination:/queue/a\\cc\ncontent-length:1\n\ny\0"),
      Buffer.from("SEND\ndestination:/queue/a\\cc\ncontent-type:1\n\nz\0"),
      // CONNECT is never unescaped: the same header bytes are another value.
      Buffer.from("CONNECT\ndestination:/queue/a\\cc\ncontent-type:1\n\n\0"),
      Buffer.from(send),
    ],
    "1.2",
  );
  assert.equal(heads[0], heads[1]);
  assert.notEqual(heads[1], heads[2]);
  assert.deepEqual(
    events.map((e) => ("headers" in e ? [e.command, ...e.headers.flat(), e.body] : e)),
    [
      ["SEND", "destination", "/queue/a:b", "content-length", "1", "x"],
      ["SEND", "destination", "/queue/a:b", "content-length", "1", "x"],
      ["SEND", "destination", "/queue/a:c", "content-length", "1", "y"],
      ["SEND", "destination", "/queue/a:c", "content-type", "1", "z"],
      ["CONNECT", "destination", "/queue/a\\cc", "content-type", "1", ""],
      ["SEND", "destination", "/queue/a:b", "content-length", "1", "x"],
    ],
  );
});

test("after the version changes, a head read before is parsed again under the new escaping", () => {
  const events: Event[] = [];
  const reader = new StompFrameReader(
    {
      onFrame: (frame) => events.push({ command: frame.command, headers: [...frame.headers], body: "" }),
      onFrameError: (error, detail) => events.push({ error, detail }),
    },
    LIMITS,
  );
  const frame = Buffer.from("SEND\nx-k:a\\cb\n\n\0");
  reader.push(frame);
  reader.version = "1.2";
  reader.push(frame);
  reader.version = "1.0";
  reader.push(frame);
  assert.deepEqual(
    events.map((e) => ("headers" in e ? e.headers[0]?.[1] : e)),
    ["a\\cb", "a:b", "a\\cb"],
  );
});

test("a head split across reads is joined with no more of the next read than a head may take; the body after it is whole", () => {
  // Bodies far longer than the head limit: the read after a split head holds the head's end, a body and more frames.
  const limits = { ...LIMITS, maxHeaderBytes: 90 };
  const bodies = ["b".repeat(700), `${"c".repeat(300)}\0${"d".repeat(300)}`, ""];
  for (let seed = 1; seed <= 200; seed++) {
    const next = random(seed * 7919);
    const bytes = session(next, bodies);
    const expected = reference(bytes, "1.2", limits.maxHeaderBytes);
    assert.deepEqual(read([bytes], "1.2", limits).events, expected, `seed ${seed} whole`);
    for (let k = 0; k < 4; k++) {
      const cut = next(bytes.length);
      const pieces = [Buffer.from(bytes.subarray(0, cut)), Buffer.from(bytes.subarray(cut))];
      assert.deepEqual(read(pieces, "1.2", limits).events, expected, `seed ${seed} cut at ${cut}`);
    }
  }
});
