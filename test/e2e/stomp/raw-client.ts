import { connect, type Socket } from "node:net";

export interface ReceivedFrame {
  command: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A frame-level STOMP client over a raw socket, independent of Warren's
 * codec: it writes exactly the bytes a test gives and parses what comes back
 * (server frames always carry content-length).
 */
export class RawStompClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  /** Heart-beat EOLs seen between frames. */
  heartbeats = 0;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      // Bare EOLs between frames are heart-beats: counted as they arrive.
      if (this.buffer.every((byte) => byte === 0x0a || byte === 0x0d)) {
        for (const byte of this.buffer) if (byte === 0x0a) this.heartbeats++;
        this.buffer = Buffer.alloc(0);
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawStompClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawStompClient(socket);
  }

  /** Opens a session; returns the CONNECTED frame. */
  static async login(
    port: number,
    headers: Record<string, string> = {},
  ): Promise<{ client: RawStompClient; connected: ReceivedFrame }> {
    const client = await RawStompClient.connect(port);
    client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest", ...headers });
    const connected = await client.frame();
    if (connected.command !== "CONNECTED") throw new Error(`login failed: ${connected.body.toString()}`);
    return { client, connected };
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(command: string, headers: Record<string, string> = {}, body: string | Buffer = ""): void {
    let head = `${command}\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}:${value}\n`;
    this.write(
      Buffer.concat([Buffer.from(`${head}\n`), Buffer.isBuffer(body) ? body : Buffer.from(body), Buffer.from([0])]),
    );
  }

  /** The next frame; rejects if the connection closes first or nothing comes within `timeoutMs`. */
  async frame(timeoutMs = 5000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.parse();
      if (frame) return frame;
      if (this.closed) throw new Error("connection closed before a frame arrived");
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("server did not close the connection");
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private parse(): ReceivedFrame | null {
    let start = 0;
    while (start < this.buffer.length && (this.buffer[start] === 0x0a || this.buffer[start] === 0x0d)) {
      if (this.buffer[start] === 0x0a) this.heartbeats++;
      start++;
    }
    this.buffer = this.buffer.subarray(start);
    const headEnd = this.buffer.indexOf("\n\n");
    if (headEnd < 0) return null;
    const lines = this.buffer.toString("utf8", 0, headEnd).split("\n");
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      if (!(name in headers)) headers[name] = line.slice(colon + 1);
    }
    const bodyStart = headEnd + 2;
    const length = headers["content-length"];
    const bodyEnd = length !== undefined ? bodyStart + Number(length) : this.buffer.indexOf(0, bodyStart);
    if (bodyEnd < 0 || this.buffer.length < bodyEnd + 1) return null;
    const body = Buffer.from(this.buffer.subarray(bodyStart, bodyEnd));
    this.buffer = this.buffer.subarray(bodyEnd + 1);
    return { command: lines[0] as string, headers, body };
  }
}
