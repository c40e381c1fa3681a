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
    const data = carried === null ? chunk.subarray(offset) : Buffer.concat([carried, chunk.subarray(offset)]);
    const carriedLength = carried === null ? 0 : carried.length;
    const end = findHeadEnd(data);
    if (end < 0) {
      if (data.length > this.limits.maxHeaderBytes) {
        this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
        return chunk.length;
      }
      this.headCarry = Buffer.from(data);
      return chunk.length;
    }
    this.headCarry = null;
    if (end > this.limits.maxHeaderBytes) {
      this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
      return chunk.length;
    }
    if (!this.parseHead(data, end)) return chunk.length;
    let bodyStart = end;
    const lengthHeader = this.headers.get("content-length");
    if (lengthHeader !== undefined) {
      if (!/^[0-9]+$/.test(lengthHeader)) {
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
        return offset + bodyStart + length + 1 - carriedLength;
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
      return offset + nul + 1 - carriedLength;
    }
    bodyStart = Math.min(bodyStart, data.length);
    if (data.length - bodyStart > this.limits.maxBodyBytes) {
      this.tooLarge();
      return chunk.length;
    }
    this.openChunks = [Buffer.from(data.subarray(bodyStart))];
    this.openLength = data.length - bodyStart;
    this.state = State.OpenBody;
    return chunk.length;
  }

  /** Command line and headers in data[0, end); false after reporting an error. */
  private parseHead(data: Buffer, end: number): boolean {
    const text = data.toString("utf8", 0, end);
    const lines = text.split("\n");
    const command = stripCr(lines[0] ?? "");
    const headers = new Map<string, string>();
    const unescape = escapesHeaders(this.version, command);
    // The head ends with an empty line, so the last two entries are "" (and "" after the final LF).
    for (let i = 1; i < lines.length; i++) {
      const line = stripCr(lines[i] as string);
      if (line === "") break;
      const colon = line.indexOf(":");
      if (colon < 0) return this.fail("Invalid frame", `header line '${line}' has no ':'`);
      if (headers.size >= this.limits.maxHeaders)
        return this.fail("Invalid frame", `frame has more than ${this.limits.maxHeaders} headers`);
      let name = line.slice(0, colon);
      let value = line.slice(colon + 1);
      if (unescape) {
        const n = unescapeHeader(name, this.version);
        const v = unescapeHeader(value, this.version);
        if (n === null || v === null)
          return this.fail("Invalid frame", `invalid escape sequence in header line '${line}'`);
        name = n;
        value = v;
      }
      if (!headers.has(name)) headers.set(name, value);
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

const stripCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line);

/** Index just past the blank line that ends the head, or -1 when it has not arrived yet. */
function findHeadEnd(data: Buffer): number {
  let lineStart = 0;
  for (;;) {
    const lf = data.indexOf(LF, lineStart);
    if (lf < 0) return -1;
    const blank = lf === lineStart || (lf === lineStart + 1 && data[lineStart] === CR);
    if (blank && lineStart > 0) return lf + 1;
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
