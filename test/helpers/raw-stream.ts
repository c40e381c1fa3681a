import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { FrameBuilder } from "../../src/stream/frame-io.js";
import { Command, RESPONSE } from "../../src/stream/protocol.js";
import { waitFor } from "./broker.js";

/** One frame the server sent: its key and version, and its content after them. */
export interface RawStreamFrame {
  key: number;
  version: number;
  content: Buffer;
}

/**
 * A frame-level stream-protocol client, for what the npm stream client
 * hides or cannot do: watching server heartbeats and MetadataUpdate, a
 * repeated Close, staying silent, and talking to RabbitMQ 3.10 (which
 * refuses that client). Frames are built with Warren's FrameBuilder.
 */
export class RawStreamClient {
  readonly frames: RawStreamFrame[] = [];
  ended = false;
  closed = false;
  private input = Buffer.alloc(0);
  private correlationId = 100;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.input = Buffer.concat([this.input, chunk]);
      while (this.input.length >= 4 && this.input.length >= 4 + this.input.readUInt32BE(0)) {
        const size = this.input.readUInt32BE(0);
        const frame = this.input.subarray(4, 4 + size);
        this.input = this.input.subarray(4 + size);
        this.frames.push({ key: frame.readUInt16BE(0), version: frame.readUInt16BE(2), content: frame.subarray(4) });
      }
    });
    socket.on("end", () => (this.ended = true));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => {});
  }

  /** Connects and logs in as guest (PLAIN), answers Tune with `heartbeat` seconds, opens vhost "/". */
  static async open(port: number, heartbeat = 0): Promise<RawStreamClient> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    const client = new RawStreamClient(socket);
    await client.request(Command.PeerProperties, (f) => f.i32(0));
    await client.request(Command.SaslHandshake, (f) => f);
    const plain = Buffer.from("\u0000guest\u0000guest");
    await client.request(Command.SaslAuthenticate, (f) => f.string("PLAIN").i32(plain.length).raw(plain));
    const tune = await client.next((frame) => frame.key === Command.Tune);
    client.send(new FrameBuilder(Command.Tune).u32(tune.content.readUInt32BE(0)).u32(heartbeat));
    await client.request(Command.Open, (f) => f.string("/"));
    return client;
  }

  send(frame: FrameBuilder): void {
    this.socket.write(frame.finish());
  }

  /** Sends a request with a fresh correlation id (written by `fill` after it); resolves with its response's code. */
  async request(key: number, fill: (frame: FrameBuilder) => FrameBuilder): Promise<number> {
    const correlationId = this.correlationId++;
    this.send(fill(new FrameBuilder(key).u32(correlationId)));
    const response = await this.next(
      (frame) => frame.key === (key | RESPONSE) && frame.content.readUInt32BE(0) === correlationId,
    );
    return response.content.readUInt16BE(4);
  }

  /** The first frame received so far, or later (within `timeoutMs`), that matches. */
  next(matches: (frame: RawStreamFrame) => boolean, timeoutMs = 5000): Promise<RawStreamFrame> {
    return waitFor(() => this.frames.find(matches), timeoutMs);
  }

  /** Keys of the frames received, in order. */
  get keys(): number[] {
    return this.frames.map((frame) => frame.key);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
