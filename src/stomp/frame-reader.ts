import { escapesHeaders, type StompFrame, type StompVersion } from "./frame.js";

export interface StompReaderLimits {
  /** Bytes of command line plus headers. */
  maxHeaderBytes: number;
  maxHeaders: number;
  /** Bytes of body. */
  maxBodyBytes: number;
}

/** Where parsed frames and parse errors go (the connection). */
export interface StompFrameSink {
  onFrame(frame: StompFrame): void;
  /** The input is not STOMP; the reader has stopped. */
  onFrameError(message: string, detail: string): void;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

const enum State {
  Head,
  /** Body of known content-length being copied into `body`. */
  SizedBody,
  /** The NUL that must follow a content-length body. */
  SizedNul,
  /** Body without content-length: up to the first NUL. */
  OpenBody,
}

/**
 * Incremental STOMP frame parser: an explicit state machine over socket
 * chunks. A frame that is whole inside one chunk is parsed in place (the
 * body is a view of the chunk); only split frames are copied. Heart-beat
 * EOLs (and stray NULs) between frames are skipped. Limits are enforced here so that a
 * hostile peer cannot make the broker buffer without bound.
 */
export class StompFrameReader {
  version: StompVersion = "1.0";
  private state = State.Head;
  private stopped = false;
  /** Head bytes carried over from earlier chunks (head split across chunks). */
  private headCarry: Buffer | null = null;
  private command = "";
  private headers = new Map<string, string>();
  private body: Buffer = Buffer.alloc(0);
  private bodyFilled = 0;
  private openChunks: Buffer[] = [];
  private openLength = 0;

  constructor(
    private readonly sink: StompFrameSink,
    readonly limits: StompReaderLimits,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      switch (this.state) {
        case State.Head:
          offset = this.readHead(chunk, offset);
          break;
        case State.SizedBody: {
          const take = Math.min(this.body.length - this.bodyFilled, chunk.length - offset);
          chunk.copy(this.body, this.bodyFilled, offset, offset + take);
          this.bodyFilled += take;
          offset += take;
          if (this.bodyFilled === this.body.length) this.state = State.SizedNul;
          break;
        }
        case State.SizedNul:
          if (chunk[offset] !== NUL) {
            this.fail("Invalid frame", "frame body is longer than its content-length header");
            return;
          }
          offset++;
          this.emit(this.body);
          break;
        case State.OpenBody: {
          const nul = chunk.indexOf(NUL, offset);
          const end = nul < 0 ? chunk.length : nul;
          if (this.openLength + end - offset > this.limits.maxBodyBytes) {
            this.tooLarge();
            return;
          }
          this.openChunks.push(chunk.subarray(offset, end));
          this.openLength += end - offset;
          offset = end;
          if (nul >= 0) {
            offset++;
            const body = Buffer.concat(this.openChunks, this.openLength);
            this.openChunks = [];
            this.openLength = 0;
            this.emit(body);
          }
          break;
        }
      }
    }
  }

  /** Parses a frame head from `chunk` at `offset`; returns the offset after what was consumed. */
  private readHead(chunk: Buffer, offset: number): number {
    const carried = this.headCarry;
    // Heart-beats are EOLs between frames; RabbitMQ (rabbit_stomp_frame) also skips NULs there.
    if (carried === null) {
      while (offset < chunk.length && (chunk[offset] === LF || chunk[offset] === CR || chunk[offset] === NUL)) offset++;
      if (offset === chunk.length) return offset;
    }
    // The head is read in place from the chunk; only one split across chunks is joined.
    const data = carried === null ? chunk : Buffer.concat([carried, chunk.subarray(offset)]);
    const start = carried === null ? offset : 0;
    /** Adds to an index into `data` to make it one into `chunk`. */
    const shift = carried === null ? 0 : offset - carried.length;
    const end = findHeadEnd(data, start);
    if (end < 0) {
      if (data.length - start > this.limits.maxHeaderBytes) {
        this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
        return chunk.length;
      }
      this.headCarry = Buffer.from(data.subarray(start));
      return chunk.length;
    }
    this.headCarry = null;
    if (end - start > this.limits.maxHeaderBytes) {
      this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
      return chunk.length;
    }
    if (!this.parseHead(data, start, end)) return chunk.length;
    const bodyStart = end;
    const lengthHeader = this.headers.get("content-length");
    if (lengthHeader !== undefined) {
      if (!isDecimal(lengthHeader)) {
        this.fail("Invalid frame", `invalid content-length header '${lengthHeader}'`);
        return chunk.length;
      }
      const length = Number(lengthHeader);
      if (length > this.limits.maxBodyBytes) {
        this.tooLarge();
        return chunk.length;
      }
      if (data.length >= bodyStart + length + 1) {
        // Whole body in this chunk: a view, no copy.
        if (data[bodyStart + length] !== NUL) {
          this.fail("Invalid frame", "frame body is longer than its content-length header");
          return chunk.length;
        }
        this.emit(data.subarray(bodyStart, bodyStart + length));
        return bodyStart + length + 1 + shift;
      }
      this.body = Buffer.allocUnsafe(length);
      const available = Math.min(length, data.length - bodyStart);
      data.copy(this.body, 0, bodyStart, bodyStart + available);
      this.bodyFilled = available;
      this.state = this.bodyFilled === length ? State.SizedNul : State.SizedBody;
      return chunk.length;
    }
    const nul = data.indexOf(NUL, bodyStart);
    if (nul >= 0) {
      if (nul - bodyStart > this.limits.maxBodyBytes) {
        this.tooLarge();
        return chunk.length;
      }
      this.emit(data.subarray(bodyStart, nul));
      return nul + 1 + shift;
    }
    if (data.length - bodyStart > this.limits.maxBodyBytes) {
      this.tooLarge();
      return chunk.length;
    }
    this.openChunks = [Buffer.from(data.subarray(bodyStart))];
    this.openLength = data.length - bodyStart;
    this.state = State.OpenBody;
    return chunk.length;
  }

  /**
   * Command line and headers in data[start, end), decoded once and cut at
   * line ends in place (no split, no per-line copies); false after reporting
   * an error.
   */
  private parseHead(data: Buffer, start: number, end: number): boolean {
    const text = data.toString("utf8", start, end);
    let lf = text.indexOf("\n");
    const command = text.slice(0, lf > 0 && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf);
    const headers = new Map<string, string>();
    // Nothing to unescape without a backslash anywhere in the head.
    const unescape = escapesHeaders(this.version, command) && text.includes("\\");
    let pos = lf + 1;
    // The head ends with an empty line.
    while (pos < text.length) {
      lf = text.indexOf("\n", pos);
      const lineEnd = lf > pos && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
      if (lineEnd === pos) break;
      const colon = text.indexOf(":", pos);
      if (colon < 0 || colon >= lineEnd)
        return this.fail("Invalid frame", `header line '${text.slice(pos, lineEnd)}' has no ':'`);
      if (headers.size >= this.limits.maxHeaders)
        return this.fail("Invalid frame", `frame has more than ${this.limits.maxHeaders} headers`);
      let name = text.slice(pos, colon);
      let value = text.slice(colon + 1, lineEnd);
      if (unescape) {
        const n = unescapeHeader(name, this.version);
        const v = unescapeHeader(value, this.version);
        if (n === null || v === null)
          return this.fail("Invalid frame", `invalid escape sequence in header line '${text.slice(pos, lineEnd)}'`);
        name = n;
        value = v;
      }
      if (!headers.has(name)) headers.set(name, value);
      pos = lf + 1;
    }
    this.command = command;
    this.headers = headers;
    return true;
  }

  private emit(body: Buffer): void {
    const frame: StompFrame = { command: this.command, headers: this.headers, body };
    this.state = State.Head;
    this.headers = new Map();
    this.body = EMPTY;
    this.sink.onFrame(frame);
  }

  private tooLarge(): void {
    this.fail("Invalid frame", `frame body exceeds the maximum of ${this.limits.maxBodyBytes} bytes`);
  }

  private fail(message: string, detail: string): false {
    this.stopped = true;
    this.sink.onFrameError(message, detail);
    return false;
  }
}

const EMPTY = Buffer.alloc(0);

/** content-length: digits only. */
function isDecimal(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Index just past the blank line that ends the head begun at `start`, or -1 when it has not arrived yet. */
function findHeadEnd(data: Buffer, start: number): number {
  let lineStart = start;
  for (;;) {
    const lf = data.indexOf(LF, lineStart);
    if (lf < 0) return -1;
    const blank = lf === lineStart || (lf === lineStart + 1 && data[lineStart] === CR);
    if (blank && lineStart > start) return lf + 1;
    lineStart = lf + 1;
  }
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
