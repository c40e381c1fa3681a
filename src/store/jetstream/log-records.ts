/**
 * The kinds of JetStream message a queue's subject holds, by the last token
 * of the subject (<prefix>.msg.<partition>.<queue token>.<kind>):
 *
 *   m  one message record (message-record.ts)                  written before session 5, still read
 *   d  a delivery mark: the decimal sequence of an `m`          written before session 5, still read
 *   b  a batch: the state of one flush (u32 length + state), then its message records, each u32 length + record
 *   s  a state record of one flush without new messages: u32 count + positions delivered, u32 count + positions acked
 *
 * A message is named by its position: the stream sequence of the JetStream
 * message holding it and its index there (0 for an `m`). One `b` and one `s`
 * per queue and flush replace a publish per message, a mark per first
 * delivery and two deletes per ack, each its own Raft round (issue 10:
 * 0.26x RabbitMQ's quorum queue with those). Acked messages leave the stream
 * by a purge of the queue's subject below its oldest live message.
 */
export const RecordKind = { Message: "m", Mark: "d", Batch: "b", State: "s" } as const;

/** Records per batch: an index fits in the low 16 bits of a position. */
export const MAX_BATCH_RECORDS = 0xffff;
/** Bytes per batch before it is sent: well under nats-server's default max_payload (1 MiB). */
export const MAX_BATCH_BYTES = 256 * 1024;
/**
 * A queue's subject is purged at most this often: each purge is a Raft round
 * too, and acked messages may wait in the stream that long (a new owner
 * skips them by the state records).
 */
export const PURGE_INTERVAL_MS = 250;

const INDEX_SPAN = 0x10000;

/** seq * 2^16 + index: exact in a double while seq < 2^37. */
export const positionOf = (seq: number, index: number): number => seq * INDEX_SPAN + index;

/** `state`: encodeState's deliveries and acks of the same flush, recorded by the same Raft round. */
export function encodeBatch(state: Buffer, records: readonly Buffer[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(4 + state.length + bytes + 4 * records.length);
  let at = out.writeUInt32LE(state.length, 0);
  at += state.copy(out, at);
  for (const record of records) {
    at = out.writeUInt32LE(record.length, at);
    at += record.copy(out, at);
  }
  return out;
}

export function decodeBatch(data: Uint8Array): { state: StateRecord; records: Uint8Array[] } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stateLength = buf.readUInt32LE(0);
  if (4 + stateLength > buf.length) throw new RangeError("batch shorter than its state");
  const state = decodeState(buf.subarray(4, 4 + stateLength));
  const records: Uint8Array[] = [];
  let at = 4 + stateLength;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new RangeError("batch record cut inside a length");
    const length = buf.readUInt32LE(at);
    at += 4;
    if (at + length > buf.length) throw new RangeError("batch record shorter than its length");
    records.push(buf.subarray(at, at + length));
    at += length;
  }
  return { state, records };
}

export interface StateRecord {
  delivered: number[];
  acked: number[];
}

export function encodeState(delivered: readonly number[], acked: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(8 + 8 * (delivered.length + acked.length));
  let at = out.writeUInt32LE(delivered.length, 0);
  for (const position of delivered) at = out.writeDoubleLE(position, at);
  at = out.writeUInt32LE(acked.length, at);
  for (const position of acked) at = out.writeDoubleLE(position, at);
  return out;
}

export function decodeState(data: Uint8Array): StateRecord {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const list = (at: number): [number[], number] => {
    const count = buf.readUInt32LE(at);
    at += 4;
    if (at + 8 * count > buf.length) throw new RangeError("state record shorter than its count");
    const positions = new Array<number>(count);
    for (let i = 0; i < count; i++, at += 8) positions[i] = buf.readDoubleLE(at);
    return [positions, at];
  };
  const [delivered, next] = list(0);
  const [acked] = list(next);
  return { delivered, acked };
}
