import { escapesHeaders, type StompVersion } from "./frame.js";

/** Header name/value pairs in the order they go on the wire. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * Encodes outgoing frames into a per-connection list of buffers that the
 * connection flushes once per tick. The head is one string; a message body
 * is appended by reference (shared with every queue it was routed to).
 */
export class StompFrameWriter {
  version: StompVersion = "1.0";
  private chunks: Buffer[] = [];
  private bytes = 0;

  get length(): number {
    return this.bytes;
  }

  /**
   * Writes a frame. RabbitMQ ends every frame with NUL then an EOL, and
   * always sends content-length when there is a body; the same is done here.
   */
  frame(command: string, headers: HeaderList, body: Buffer | null): void {
    const escape = escapesHeaders(this.version, command) ? (this.version === "1.2" ? escape12 : escape11) : noEscape;
    let head = command + "\n";
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i] as readonly [string, string];
      head += escape(name) + ":" + escape(value) + "\n";
    }
    if (body !== null) head += "content-length:" + body.length + "\n";
    head += "\n";
    if (body === null || body.length === 0) {
      this.push(Buffer.from(head + "\0\n", "utf8"));
      return;
    }
    this.push(Buffer.from(head, "utf8"));
    this.push(body);
    this.push(TRAILER);
  }

  /** A heart-beat is a single EOL. */
  heartbeat(): void {
    this.push(EOL);
  }

  /** The buffered output, emptied. */
  take(): Buffer[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }
}

const TRAILER = Buffer.from("\0\n");
const EOL = Buffer.from("\n");

const noEscape = (value: string): string => value;

// STOMP 1.1 "Value Encoding": backslash, LF and colon; 1.2 adds CR.
const escape11 = (value: string): string =>
  /[\\\n:]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/:/g, "\\c") : value;
const escape12 = (value: string): string => (/[\\\n:\r]/.test(value) ? escape11(value).replace(/\r/g, "\\r") : value);
