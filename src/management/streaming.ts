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

/**
 * Longest stretch of listing or formatting work between two turns of the
 * event loop. A fixed item count per turn was not enough: on a loaded
 * 2-core box 500 queues took anywhere from 10 to 100+ ms, so work is cut
 * by the clock (issue 11: no protocol client should wait ~100 ms on a
 * management request).
 */
export const SLICE_MS = 8;
/** Bytes written per turn. */
const CHUNK_CHARS = 64 * 1024;

/** Counts work done since the last turn and yields once SLICE_MS have passed (checked every few items: the clock costs too). */
export class TurnSlicer {
  private sliceStart = performance.now();
  private sinceCheck = 0;

  async step(): Promise<void> {
    if (++this.sinceCheck < 16) return;
    this.sinceCheck = 0;
    if (performance.now() - this.sliceStart < SLICE_MS) return;
    await nextTurn();
    this.sliceStart = performance.now();
  }
}

/** `items.map(build)`, yielding to the event loop every SLICE_MS. */
export async function mapInTurns<T, R>(items: Iterable<T>, build: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  const slicer = new TurnSlicer();
  for (const item of items) {
    out.push(build(item));
    await slicer.step();
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
  private sliceStart = performance.now();

  constructor(private readonly response: ServerResponse) {}

  /** Flushes when a chunk is full or the slice's time is up (formatting many short lines costs more than their bytes say). */
  async push(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= CHUNK_CHARS || (this.parts.length % 64 === 0 && performance.now() - this.sliceStart >= SLICE_MS)) {
      await this.flush();
      this.sliceStart = performance.now();
    }
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
    for (let i = 0; i < this.items.length; i++)
      await writer.push(i === 0 ? JSON.stringify(this.items[i]) : `,${JSON.stringify(this.items[i])}`);
    await writer.push("]");
    writer.end();
  }
}
