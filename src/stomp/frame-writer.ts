import { OutputBuffer } from "../transport/output-buffer.js";
import { escapesHeaders, type StompVersion } from "./frame.js";

/** Where a frame's headers go, one by one. */
export interface HeaderSink {
  header(name: string, value: string): void;
}

/** Header name/value pairs in the order they go on the wire. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

const LF = 0x0a;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const CR = 0x0d;

/** How header text is escaped: per version and command (frame.ts escapesHeaders). */
export const enum Escaping {
  None,
  /** STOMP 1.1 "Value Encoding": backslash, LF and colon. */
  V11,
  /** 1.2 adds CR. */
  V12,
}

export function escapingFor(version: StompVersion, command: string): Escaping {
  if (!escapesHeaders(version, command)) return Escaping.None;
  return version === "1.2" ? Escaping.V12 : Escaping.V11;
}

/**
 * Encodes outgoing frames straight into the connection's one output buffer
 * (transport/output-buffer.ts), which the connection flushes once per tick:
 * no head string, no Buffer per frame. A large message body is passed by
 * reference (shared with every queue it was routed to), a small one copied.
 */
export class StompFrameWriter implements HeaderSink {
  version: StompVersion = "1.0";
  readonly out = new OutputBuffer();
  /** The escaping of the frame being written. */
  private escaping = Escaping.None;

  get length(): number {
    return this.out.length;
  }

  /**
   * Writes a frame. RabbitMQ ends every frame with NUL then an EOL, and
   * always sends content-length when there is a body; the same is done here.
   */
  frame(command: string, headers: HeaderList, body: Buffer | null): void {
    this.begin(command);
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i] as readonly [string, string];
      this.header(name, value);
    }
    this.end(body);
  }

  /** The command line (or `start`, its bytes and any fixed headers); headers and end() follow. */
  begin(command: string, start?: Buffer): void {
    this.escaping = escapingFor(this.version, command);
    if (start !== undefined) return this.out.bytes(start);
    this.out.utf8(command);
    this.out.u8(LF);
  }

  /** One `name:value` line of the frame begun. */
  header(name: string, value: string): void {
    this.text(name);
    this.out.u8(COLON);
    this.text(value);
    this.out.u8(LF);
  }

  /** Header text, escaped as the frame's version and command say. */
  text(value: string): void {
    const escaping = this.escaping;
    if (escaping === Escaping.None || !needsEscape(value, escaping)) this.out.utf8(value);
    else this.out.utf8(escapeText(value, escaping));
  }

  /** content-length (when there is a body), the blank line, the body, NUL and EOL. */
  end(body: Buffer | null): void {
    const out = this.out;
    if (body !== null) {
      out.utf8("content-length:");
      out.decimal(body.length);
      out.u8(LF);
    }
    out.u8(LF);
    if (body !== null && body.length > 0) out.bytes(body);
    out.u8(0);
    out.u8(LF);
  }

  /** A heart-beat is a single EOL. */
  heartbeat(): void {
    this.out.u8(LF);
  }

  /** The buffered output, emptied. */
  take(): Buffer[] {
    return this.out.take();
  }
}

function needsEscape(value: string, escaping: Escaping): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === BACKSLASH || c === LF || c === COLON || (c === CR && escaping === Escaping.V12)) return true;
  }
  return false;
}

export function escapeText(value: string, escaping: Escaping): string {
  if (escaping === Escaping.None || !needsEscape(value, escaping)) return value;
  const v11 = value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c");
  return escaping === Escaping.V12 ? v11.replace(/\r/g, "\\r") : v11;
}
