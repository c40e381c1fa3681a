import type { StompFrame, StompVersion } from "./frame.js";
import { StompHeadParser, type StompHead } from "./frame-head.js";

export { unescapeHeader } from "./frame-head.js";

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
  private versionInUse: StompVersion = "1.0";
  private readonly heads: StompHeadParser;
  private state = State.Head;
  private stopped = false;
  /** Head bytes carried over from earlier chunks (head split across chunks). */
  private headCarry: Buffer | null = null;
  /** The head of the frame whose body is being read. */
  private head: StompHead = NO_HEAD;
  private body: Buffer = Buffer.alloc(0);
  private bodyFilled = 0;
  private openChunks: Buffer[] = [];
  private openLength = 0;

  constructor(
    private readonly sink: StompFrameSink,
    readonly limits: StompReaderLimits,
  ) {
    this.heads = new StompHeadParser(limits.maxHeaders);
  }

  get version(): StompVersion {
    return this.versionInUse;
  }

  /** Set by CONNECT: the header escaping of later frames. */
  set version(version: StompVersion) {
    this.versionInUse = version;
    this.heads.setVersion(version);
  }

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
    // The head is read in place from the chunk; only one split across chunks is joined, with no more of
    // the new chunk than a head may take (not the whole chunk: that was a 64 KiB copy per socket read).
    const data =
      carried === null
        ? chunk
        : Buffer.concat([
            carried,
            chunk.subarray(offset, offset + Math.max(0, this.limits.maxHeaderBytes + 2 - carried.length)),
          ]);
    const start = carried === null ? offset : 0;
    // A producer repeats its head: bytes equal to the last head's are that head, with no search and no decode.
    let end = this.heads.matchLast(data, start);
    let head: StompHead | null = end < 0 ? null : this.heads.last;
    if (head === null) {
      end = findHeadEnd(data, start);
      if (end < 0) {
        if (data.length - start > this.limits.maxHeaderBytes) {
          this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
          return chunk.length;
        }
        this.headCarry = Buffer.from(data.subarray(start));
        return chunk.length;
      }
      if (end - start > this.limits.maxHeaderBytes) {
        this.fail("Invalid frame", `frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
        return chunk.length;
      }
      head = this.heads.parse(data, start, end);
      if (head === null) {
        this.fail("Invalid frame", this.heads.error);
        return chunk.length;
      }
    }
    this.headCarry = null;
    this.head = head;
    // The body is read from the chunk: a joined head ended inside it.
    const bodyStart = carried === null ? end : end - carried.length + offset;
    const length = head.contentLength;
    if (length >= 0) {
      if (length > this.limits.maxBodyBytes) {
        this.tooLarge();
        return chunk.length;
      }
      if (chunk.length >= bodyStart + length + 1) {
        // Whole body in this chunk: a view, no copy.
        if (chunk[bodyStart + length] !== NUL) {
          this.fail("Invalid frame", "frame body is longer than its content-length header");
          return chunk.length;
        }
        this.emit(chunk.subarray(bodyStart, bodyStart + length));
        return bodyStart + length + 1;
      }
      this.body = Buffer.allocUnsafe(length);
      const available = Math.min(length, chunk.length - bodyStart);
      chunk.copy(this.body, 0, bodyStart, bodyStart + available);
      this.bodyFilled = available;
      this.state = this.bodyFilled === length ? State.SizedNul : State.SizedBody;
      return chunk.length;
    }
    if (length !== -1) {
      this.fail("Invalid frame", `invalid content-length header '${head.headers.get("content-length")}'`);
      return chunk.length;
    }
    // An empty body (ACK, SUBSCRIBE): no search.
    if (chunk[bodyStart] === NUL) {
      this.emit(EMPTY);
      return bodyStart + 1;
    }
    const nul = chunk.indexOf(NUL, bodyStart);
    if (nul >= 0) {
      if (nul - bodyStart > this.limits.maxBodyBytes) {
        this.tooLarge();
        return chunk.length;
      }
      this.emit(chunk.subarray(bodyStart, nul));
      return nul + 1;
    }
    if (chunk.length - bodyStart > this.limits.maxBodyBytes) {
      this.tooLarge();
      return chunk.length;
    }
    this.openChunks = [chunk.subarray(bodyStart)];
    this.openLength = chunk.length - bodyStart;
    this.state = State.OpenBody;
    return chunk.length;
  }

  private emit(body: Buffer): void {
    const head = this.head;
    const frame: StompFrame = { command: head.command, headers: head.headers, body };
    this.state = State.Head;
    this.head = NO_HEAD;
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
const NO_HEAD: StompHead = { command: "", headers: new Map(), contentLength: -1 };

/**
 * Index just past the blank line that ends the head begun at `start`, or -1
 * when it has not arrived yet. A loop over the bytes: heads are short, and
 * Buffer#indexOf per line cost more in calls than it saved.
 */
function findHeadEnd(data: Buffer, start: number): number {
  let lineStart = start;
  for (let i = start; i < data.length; i++) {
    if (data[i] !== LF) continue;
    const blank = i === lineStart || (i === lineStart + 1 && data[lineStart] === CR);
    if (blank && lineStart > start) return i + 1;
    lineStart = i + 1;
  }
  return -1;
}
