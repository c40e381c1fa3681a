import { escapesHeaders, type StompVersion } from "./frame.js";
import { HeaderList } from "./header-list.js";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const BACKSLASH = 0x5c;

/** A frame's command and headers, parsed once; shared, never changed, by every frame with the same head bytes. */
export interface StompHead {
  readonly command: string;
  /** In wire order; a repeated header keeps its first value (STOMP 1.2 "Repeated Header Entries"). */
  readonly headers: ReadonlyMap<string, string>;
  /** The content-length header as a number; -1 without one, NaN when it is not a decimal number. */
  readonly contentLength: number;
}

/** Heads longer than this are parsed but not kept for the next frame (memory held per connection). */
const MAX_KEPT_HEAD = 2048;

/** Buffer's own slice bindings (what toString calls after checking its arguments; present in every Node release). */
interface SliceBindings {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/**
 * Parses frame heads straight from the socket bytes, and remembers the last
 * one: a producer sends the same head (destination, content-length,
 * properties) frame after frame, and a consumer's ACKs differ only in the
 * id's last digits. A head whose bytes equal the last one's is the same
 * StompHead object (a byte comparison, no decoding, no Map); otherwise
 * each line equal to the same line of the last head reuses its name and
 * value strings, and a line with the same name reuses the name. Only what
 * changed is decoded. Bytes are compared from the end, where an ACK id's
 * tag differs. Profile before this (scenario h): the head's decode, line
 * cutting and Map were 17 % of broker CPU.
 */
export class StompHeadParser {
  private version: StompVersion = "1.0";
  /** The last head's bytes (command line to the blank line), or empty when it was not kept. */
  private lastBytes: Buffer = EMPTY;
  private lastHead: StompHead | null = null;
  /** Per header line of the last head: its start, colon and end (before CR LF) relative to the head's start. */
  private lastLines: number[] = [];
  private lastNames: string[] = [];
  private lastValues: string[] = [];
  private lastLineCount = 0;
  private lastCommandEnd = 0;
  /** Whether the last head's headers were unescaped: its strings are reusable only under the same rule. */
  private lastUnescaped = false;
  /** The arrays of the head before the last, filled again by the next parse (no arrays per frame). */
  private spareLines: number[] = [];
  private spareNames: string[] = [];
  private spareValues: string[] = [];
  /** The last head's header names, first occurrences: the next head shares the array when its names are these. */
  private lastUniqueNames: readonly string[] = [];
  private scratchNames: string[] = [];
  private scratchValues: string[] = [];
  /** The error of the last parse() that returned null. */
  error = "";

  constructor(private readonly maxHeaders: number) {}

  /** Escaping depends on the version: a head parsed before CONNECTED is not the same head after it. */
  setVersion(version: StompVersion): void {
    this.version = version;
    this.forget();
  }

  /** The end (just past the blank line) of a head at `start` equal to the last one, or -1. */
  matchLast(data: Buffer, start: number): number {
    const last = this.lastBytes;
    const n = last.length;
    if (n === 0 || data.length - start < n) return -1;
    return sameBytes(data, start, last, 0, n) ? start + n : -1;
  }

  /** The head matched by matchLast. */
  get last(): StompHead {
    return this.lastHead as StompHead;
  }

  /** The head in data[start, end) (end just past its blank line); null with `error` set when it is malformed. */
  parse(data: Buffer, start: number, end: number): StompHead | null {
    const last = this.lastBytes;
    const lastLines = this.lastLines;
    let lf = start;
    let asciiCommand = true;
    for (let c = data[lf] as number; c !== LF; c = data[++lf] as number) if (c > 0x7f) asciiCommand = false;
    const commandEnd = lf > start && data[lf - 1] === CR ? lf - 1 : lf;
    const command =
      this.lastHead !== null &&
      commandEnd - start === this.lastCommandEnd &&
      sameBytes(data, start, last, 0, commandEnd - start)
        ? this.lastHead.command
        : decode(data, start, commandEnd, asciiCommand);
    const unescape = escapesHeaders(this.version, command);
    // Another escaping rule (CONNECT is never unescaped) makes other strings from the same bytes.
    const lastLineCount = this.lastHead !== null && unescape === this.lastUnescaped ? this.lastLineCount : 0;
    // First occurrences only, in scratch arrays; the head gets copies (or the last head's names, when equal).
    const uniqueNames = this.scratchNames;
    const uniqueValues = this.scratchValues;
    let unique = 0;
    let seen: Set<string> | null = null;
    const lines = this.spareLines;
    const names = this.spareNames;
    const values = this.spareValues;
    let index = 0;
    let pos = lf + 1;
    // The head ends with an empty line.
    while (pos < end) {
      let colon = -1;
      let escaped = false;
      let ascii = true;
      let i = pos;
      for (; i < end; i++) {
        const c = data[i] as number;
        if (c === LF) break;
        if (c === COLON && colon < 0) colon = i;
        else if (c === BACKSLASH) escaped = true;
        else if (c > 0x7f) ascii = false;
      }
      lf = i;
      const lineEnd = lf > pos && data[lf - 1] === CR ? lf - 1 : lf;
      if (lineEnd === pos) break;
      if (colon < 0 || colon >= lineEnd)
        return this.fail(`header line '${data.toString("utf8", pos, lineEnd)}' has no ':'`);
      if (unique >= this.maxHeaders) return this.fail(`frame has more than ${this.maxHeaders} headers`);
      let name: string;
      let value: string;
      const l = index * 3;
      const lastStart = index < lastLineCount ? (lastLines[l] as number) : -1;
      const unescapeLine = unescape && escaped;
      if (
        lastStart >= 0 &&
        (lastLines[l + 1] as number) - lastStart === colon - pos &&
        sameBytes(data, pos, last, lastStart, colon - pos)
      ) {
        name = this.lastNames[index] as string;
        const lastEnd = lastLines[l + 2] as number;
        const lastValueStart = (lastLines[l + 1] as number) + 1;
        value =
          lastEnd - lastValueStart === lineEnd - colon - 1 &&
          sameBytes(data, colon + 1, last, lastValueStart, lastEnd - lastValueStart)
            ? (this.lastValues[index] as string)
            : this.text(data, colon + 1, lineEnd, ascii, unescapeLine);
      } else {
        name = this.text(data, pos, colon, ascii, unescapeLine);
        value = this.text(data, colon + 1, lineEnd, ascii, unescapeLine);
      }
      if (name === INVALID || value === INVALID)
        return this.fail(`invalid escape sequence in header line '${data.toString("utf8", pos, lineEnd)}'`);
      // A scan for the few headers of a frame; a set past that, so that 1,000 headers are not 500,000 comparisons.
      let repeated = false;
      if (unique <= 16) {
        for (let k = 0; k < unique; k++)
          if (uniqueNames[k] === name) {
            repeated = true;
            break;
          }
        if (!repeated && unique === 16) seen = new Set(uniqueNames.slice(0, 16));
      } else if ((seen as Set<string>).has(name)) repeated = true;
      if (!repeated) {
        seen?.add(name);
        uniqueNames[unique] = name;
        uniqueValues[unique] = value;
        unique++;
      }
      lines[l] = pos - start;
      lines[l + 1] = colon - start;
      lines[l + 2] = lineEnd - start;
      names[index] = name;
      values[index] = value;
      index++;
      pos = lf + 1;
    }
    const lastUnique = this.lastUniqueNames;
    let headerNames: readonly string[] = lastUnique;
    if (this.lastHead === null || unique !== lastUnique.length) headerNames = uniqueNames.slice(0, unique);
    else
      for (let k = 0; k < unique; k++)
        if (uniqueNames[k] !== lastUnique[k]) {
          headerNames = uniqueNames.slice(0, unique);
          break;
        }
    const headers = new HeaderList(headerNames, uniqueValues.slice(0, unique));
    const lengthHeader = headers.get("content-length");
    const head: StompHead = {
      command,
      headers,
      contentLength: lengthHeader === undefined ? -1 : decimal(lengthHeader),
    };
    this.remember(data, start, end, commandEnd - start, head, unescape, index);
    this.lastUniqueNames = headerNames;
    return head;
  }

  private remember(
    data: Buffer,
    start: number,
    end: number,
    commandEnd: number,
    head: StompHead,
    unescaped: boolean,
    lineCount: number,
  ): void {
    const n = end - start;
    if (n > MAX_KEPT_HEAD) return this.forget();
    const lines = this.spareLines;
    const names = this.spareNames;
    const values = this.spareValues;
    this.spareLines = this.lastLines;
    this.spareNames = this.lastNames;
    this.spareValues = this.lastValues;
    // A copy: the chunk may be a view the caller lets go, and holding it would pin the whole chunk.
    const bytes = this.lastBytes.length === n ? this.lastBytes : Buffer.allocUnsafeSlow(n);
    if (n <= 32) for (let i = 0; i < n; i++) bytes[i] = data[start + i] as number;
    else bytes.set(data.subarray(start, end));
    this.lastBytes = bytes;
    this.lastHead = head;
    this.lastCommandEnd = commandEnd;
    this.lastUnescaped = unescaped;
    this.lastLines = lines;
    this.lastNames = names;
    this.lastValues = values;
    this.lastLineCount = lineCount;
  }

  private forget(): void {
    this.lastBytes = EMPTY;
    this.lastHead = null;
    this.lastLineCount = 0;
    // Not kept: the strings of a long head (or a CONNECT's passcode) are let go.
    this.lastUniqueNames = [];
    this.scratchNames = [];
    this.scratchValues = [];
    this.lastNames = [];
    this.lastValues = [];
    this.spareNames = [];
    this.spareValues = [];
  }

  private fail(detail: string): null {
    this.error = detail;
    this.forget();
    return null;
  }

  /** Header text; INVALID for an undefined escape sequence. */
  private text(data: Buffer, from: number, to: number, ascii: boolean, unescape: boolean): string {
    const raw = decode(data, from, to, ascii);
    if (!unescape) return raw;
    return unescapeHeader(raw, this.version) ?? INVALID;
  }
}

/**
 * UTF-8 text of data[from, to). Decoding each piece alone gives what
 * decoding the whole head gave (':' and LF are ASCII, never inside a
 * multi-byte sequence); ASCII is copied as Latin-1, a plain byte copy.
 */
function decode(data: Buffer, from: number, to: number, ascii: boolean): string {
  const slices = data as unknown as SliceBindings;
  return ascii ? slices.latin1Slice(from, to) : slices.utf8Slice(from, to);
}

const EMPTY = Buffer.alloc(0);
/** Stands for an undefined escape sequence (never a decoded string: it is compared by identity). */
const INVALID = "\\\u0000invalid";

/** From the end: what differs from one head to the next (an ACK id's tag, a receipt number) is mostly last. */
function sameBytes(a: Buffer, aFrom: number, b: Buffer, bFrom: number, n: number): boolean {
  for (let i = n - 1; i >= 0; i--) if (a[aFrom + i] !== b[bFrom + i]) return false;
  return true;
}

/** content-length: digits only; NaN otherwise. */
function decimal(text: string): number {
  if (text.length === 0) return NaN;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  return Number(text);
}

/** STOMP 1.1/1.2 header unescaping; null on an undefined escape (a fatal protocol error per the spec). */
export function unescapeHeader(raw: string, version: StompVersion): string | null {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === "n") out += "\n";
    else if (next === "c") out += ":";
    else if (next === "\\") out += "\\";
    else if (next === "r" && version === "1.2") out += "\r";
    else return null;
  }
  return out;
}
