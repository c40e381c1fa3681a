/**
 * Big answers without holding the one event loop: with 50,000 queues,
 * /metrics/per-object (18 MB) and GET /api/queues (43 MB) were built and
 * serialised in one go, and every protocol waited seconds for them. Work is
 * cut into batches, and between batches the loop serves other sockets
 * (setImmediate, or the response's 'drain' when the client reads slowly).
 */
import type { ServerResponse } from "node:http";
import { setImmediate as nextTurn } from "node:timers/promises";
import { RequestAborted } from "./http-util.js";

/** Items built per turn of the event loop (~10-20 ms of queue formatting). */
export const ITEMS_PER_TURN = 500;
/** Bytes written per turn. */
const CHUNK_CHARS = 64 * 1024;

/** `items.map(build)`, yielding to the event loop every ITEMS_PER_TURN items. */
export async function mapInTurns<T, R>(items: Iterable<T>, build: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) {
    out.push(build(item));
    if (out.length % ITEMS_PER_TURN === 0) await nextTurn();
  }
  return out;
}

/**
 * A response body written in chunks (chunked transfer encoding): text is
 * gathered until a chunk is full, written, and the writer waits for the
 * next turn, or for 'drain' when the socket's buffer is full, so a slow
 * reader costs memory of one chunk, not of the whole answer.
 */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly response: ServerResponse) {}

  async push(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= CHUNK_CHARS) await this.flush();
  }

  end(): void {
    if (this.size > 0) this.response.write(this.take());
    this.response.end();
  }

  private take(): string {
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    return text;
  }

  private async flush(): Promise<void> {
    if (this.response.destroyed) throw new RequestAborted();
    if (this.response.write(this.take())) await nextTurn();
    else await drainOrClose(this.response);
    if (this.response.destroyed) throw new RequestAborted();
  }
}

function drainOrClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}

/** A JSON array answer, serialised item by item through a ChunkedWriter. */
export class JsonArrayBody {
  constructor(readonly items: readonly unknown[]) {}

  async write(response: ServerResponse, status: number, headers: Record<string, string>): Promise<void> {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    const writer = new ChunkedWriter(response);
    await writer.push("[");
    for (let i = 0; i < this.items.length; i++) await writer.push(i === 0 ? JSON.stringify(this.items[i]) : `,${JSON.stringify(this.items[i])}`);
    await writer.push("]");
    writer.end();
  }
}
