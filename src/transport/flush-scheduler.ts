/**
 * Output is written into per-connection buffers and flushed once per
 * event-loop turn: every connection that wrote during this turn (its own
 * replies, or deliveries caused by another connection's publish) is flushed
 * together in the check phase, so a burst of frames becomes one writev.
 */
export interface Flushable {
  flush(): void;
}

/**
 * Writes a reply may report that finish later than this turn: the
 * definitions and MQTT state of a cluster node, durable once NATS
 * acknowledged them (issue 10: declare-ok, bind-ok, SUBACK only after the
 * replicated write). A single node has none: its store writes before the
 * flush (persistence/attach-store.ts).
 */
export interface FlushGate {
  /** Grows with every write begun. */
  readonly writesBegun: number;
  /** As Durability.afterSync: once every write begun so far is acknowledged. */
  afterSync(callback: (error: Error | null) => void): void;
}

const dirty = new Set<Flushable>();
let scheduled = false;
let gate: FlushGate | null = null;
let gateSeen = 0;
/** Connections whose output waits for a gate wave, with the newest wave each waits for. */
const held = new Map<Flushable, number>();
let waves = 0;

/** The process's one gate (one cluster node per process); null removes it. */
export function setFlushGate(next: FlushGate | null): void {
  gate = next;
  gateSeen = next?.writesBegun ?? 0;
}

/**
 * The connection marked last, known to be in `dirty`: a consumer connection is marked once per delivery,
 * and comparing with it skips the Set's hash lookup (issue 15 §3).
 */
let last: Flushable | null = null;

export function markDirty(connection: Flushable): void {
  if (connection === last) return;
  last = connection;
  dirty.add(connection);
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushAll);
}

function flushAll(): void {
  scheduled = false;
  last = null;
  // Writes began this turn: whatever was written to a connection this turn may report them, so it waits.
  const wave = gate !== null && gate.writesBegun !== gateSeen ? ++waves : 0;
  if (wave !== 0 && gate !== null) {
    gateSeen = gate.writesBegun;
    gate.afterSync(() => release(wave));
  }
  for (const connection of dirty) {
    dirty.delete(connection);
    // No longer in `dirty`: a connection marked while this one flushes is added again.
    last = null;
    if (wave !== 0) held.set(connection, wave);
    // Output queued behind a held reply keeps its order: it leaves with it.
    else if (!held.has(connection)) connection.flush();
  }
}

/** Waves end in order (afterSync is FIFO); a connection also in a later wave keeps waiting. */
function release(wave: number): void {
  for (const [connection, waitsFor] of held) {
    if (waitsFor > wave) continue;
    held.delete(connection);
    connection.flush();
  }
}
