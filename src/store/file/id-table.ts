/**
 * Where each live message's record is, indexed by log id, in typed arrays:
 * 21 bytes per message instead of a Map entry plus an object (~150 bytes),
 * so that millions of queued messages fit in memory as an index while their
 * bodies stay on disk (issue 3: 5 million in one queue under 1 GiB RSS).
 *
 * Ids are handed out in increasing order, so the table is a set of chunks
 * of CHUNK consecutive ids; a chunk is freed once none of its ids is live.
 * Queues are stored as small numbers (see `QueueNames`).
 */
const CHUNK = 65_536;

class Chunk {
  readonly segment = new Uint32Array(CHUNK);
  readonly offset = new Uint32Array(CHUNK);
  /** Whole record, framing included: what the segment's live bytes count. */
  readonly length = new Uint32Array(CHUNK);
  readonly bodyLength = new Uint32Array(CHUNK);
  /** Queue number + 1; 0 = not live. */
  readonly queue = new Uint32Array(CHUNK);
  /** 1 = delivered, 2 = transient (paged out only; no records for its delivery or removal). */
  readonly flags = new Uint8Array(CHUNK);
  live = 0;
  constructor(readonly no: number) {}
}

export interface Location {
  segment: number;
  offset: number;
  length: number;
}

export class IdTable {
  private readonly chunks = new Map<number, Chunk>();
  private last: Chunk | null = null;
  /** The highest-numbered chunk: new ids land in it, so it is kept even when empty. */
  private newest = -1;
  size = 0;
  /** Chunks allocated so far (each 1.3 MiB of typed arrays). */
  chunksCreated = 0;

  /** Chunks held now: the newest, and older ones with a live id. */
  get chunksHeld(): number {
    return this.chunks.size;
  }

  private chunkOf(id: number): Chunk | undefined {
    const no = Math.floor(id / CHUNK);
    const last = this.last;
    if (last !== null && last.no === no) return last;
    const chunk = this.chunks.get(no);
    if (chunk !== undefined) this.last = chunk;
    return chunk;
  }

  private liveChunk(id: number): Chunk | undefined {
    const chunk = this.chunkOf(id);
    return chunk !== undefined && chunk.queue[id % CHUNK] !== 0 ? chunk : undefined;
  }

  has(id: number): boolean {
    return this.liveChunk(id) !== undefined;
  }

  /** Adds a live id, or moves it when it is live already (a compaction copy found by recovery). */
  set(
    id: number,
    queue: number,
    segment: number,
    offset: number,
    length: number,
    bodyLength: number,
    delivered: boolean,
    transient = false,
  ): void {
    let chunk = this.chunkOf(id);
    if (chunk === undefined) {
      const no = Math.floor(id / CHUNK);
      chunk = new Chunk(no);
      this.chunks.set(no, chunk);
      this.last = chunk;
      this.chunksCreated++;
      if (no > this.newest) {
        // The newest was kept while empty for ids that now go to this one.
        const previous = this.chunks.get(this.newest);
        if (previous !== undefined && previous.live === 0) this.chunks.delete(previous.no);
        this.newest = no;
      }
    }
    const i = id % CHUNK;
    if (chunk.queue[i] === 0) {
      chunk.live++;
      this.size++;
    }
    chunk.queue[i] = queue + 1;
    chunk.segment[i] = segment;
    chunk.offset[i] = offset;
    chunk.length[i] = length;
    chunk.bodyLength[i] = bodyLength;
    chunk.flags[i] = (delivered ? 1 : 0) | (transient ? 2 : 0);
  }

  delete(id: number): void {
    const chunk = this.liveChunk(id);
    if (chunk === undefined) return;
    chunk.queue[id % CHUNK] = 0;
    this.size--;
    // Issue 15: a queue its consumers keep empty takes its live count to 0 after nearly every
    // message; freeing the chunk that the next id lands in made each of those allocate and zero
    // 1.3 MiB again (measured: a quarter of the broker's CPU in GC for persistent 1 KiB messages).
    if (--chunk.live === 0 && chunk.no !== this.newest) {
      this.chunks.delete(chunk.no);
      if (this.last === chunk) this.last = null;
    }
  }

  /** The record's place, or undefined when the id is not live. */
  location(id: number): Location | undefined {
    const chunk = this.liveChunk(id);
    if (chunk === undefined) return undefined;
    const i = id % CHUNK;
    return {
      segment: chunk.segment[i] as number,
      offset: chunk.offset[i] as number,
      length: chunk.length[i] as number,
    };
  }

  segmentOf(id: number): number {
    return this.liveChunk(id)?.segment[id % CHUNK] ?? -1;
  }

  offsetOf(id: number): number {
    return this.liveChunk(id)?.offset[id % CHUNK] ?? -1;
  }

  lengthOf(id: number): number {
    return this.liveChunk(id)?.length[id % CHUNK] ?? 0;
  }

  bodyLengthOf(id: number): number {
    return this.liveChunk(id)?.bodyLength[id % CHUNK] ?? 0;
  }

  queueOf(id: number): number {
    return (this.liveChunk(id)?.queue[id % CHUNK] ?? 0) - 1;
  }

  isDelivered(id: number): boolean {
    return ((this.liveChunk(id)?.flags[id % CHUNK] ?? 0) & 1) !== 0;
  }

  isTransient(id: number): boolean {
    return ((this.liveChunk(id)?.flags[id % CHUNK] ?? 0) & 2) !== 0;
  }

  setDelivered(id: number): void {
    const chunk = this.liveChunk(id);
    if (chunk !== undefined) chunk.flags[id % CHUNK] = (chunk.flags[id % CHUNK] as number) | 1;
  }

  /** Where a staged record landed when it was written (SegmentLog: staged ids are in segment 0). */
  place(id: number, segment: number, offset: number, length: number): void {
    const chunk = this.liveChunk(id);
    if (chunk === undefined) return;
    const i = id % CHUNK;
    chunk.segment[i] = segment;
    chunk.offset[i] = offset;
    chunk.length[i] = length;
  }

  moveTo(id: number, segment: number, offset: number): void {
    const chunk = this.liveChunk(id);
    if (chunk === undefined) return;
    chunk.segment[id % CHUNK] = segment;
    chunk.offset[id % CHUNK] = offset;
  }

  /** Live ids in increasing (publish) order. Deleting the visited id while iterating is allowed. */
  *ids(): IterableIterator<number> {
    const numbers = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const no of numbers) {
      const chunk = this.chunks.get(no);
      if (chunk === undefined) continue;
      const queue = chunk.queue;
      const base = no * CHUNK;
      for (let i = 0; i < CHUNK; i++) if (queue[i] !== 0) yield base + i;
    }
  }

  /** Live ids of one queue, or of one segment, in increasing order. */
  idsWhere(field: "queue" | "segment", value: number): number[] {
    const out: number[] = [];
    const wanted = field === "queue" ? value + 1 : value;
    const numbers = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const no of numbers) {
      const chunk = this.chunks.get(no) as Chunk;
      const queue = chunk.queue;
      const column = field === "queue" ? queue : chunk.segment;
      const base = no * CHUNK;
      for (let i = 0; i < CHUNK; i++) if (queue[i] !== 0 && column[i] === wanted) out.push(base + i);
    }
    return out;
  }
}

/** Queue keys as small numbers for the table; a key keeps its number while the log is open. */
export class QueueNames {
  private readonly numbers = new Map<string, number>();
  readonly keys: string[] = [];

  numberOf(key: string): number {
    let no = this.numbers.get(key);
    if (no === undefined) {
      no = this.keys.length;
      this.numbers.set(key, no);
      this.keys.push(key);
    }
    return no;
  }

  find(key: string): number | undefined {
    return this.numbers.get(key);
  }
}
