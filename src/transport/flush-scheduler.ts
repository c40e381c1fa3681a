/**
 * Output is written into per-connection buffers and flushed once per
 * event-loop turn: every connection that wrote during this turn (its own
 * replies, or deliveries caused by another connection's publish) is flushed
 * together in the check phase, so a burst of frames becomes one writev.
 */
export interface Flushable {
  flush(): void;
}

const dirty = new Set<Flushable>();
let scheduled = false;

export function markDirty(connection: Flushable): void {
  dirty.add(connection);
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushAll);
}

function flushAll(): void {
  scheduled = false;
  for (const connection of dirty) {
    dirty.delete(connection);
    connection.flush();
  }
}
