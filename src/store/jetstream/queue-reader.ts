/**
 * Reads the records of queues back from a partition stream (a new owner, a
 * restart) and applies them: the messages of batches and single records,
 * less those a state record acked, delivered ones flagged (log-records.ts).
 * Streams written before batch and state records (single `m` messages,
 * `d` marks, acks as deletes) read the same way.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { RecordKind, decodeBatch, decodeState, positionOf, type StateRecord } from "./log-records.js";
import { decodeMessageRecord, type DecodedRecord } from "./message-record.js";
import { readStream } from "./stream-reader.js";
import { fromToken } from "./subject-token.js";

export interface ReadMessage {
  readonly seq: number;
  readonly index: number;
  readonly record: DecodedRecord;
  delivered: boolean;
}

export interface ReadQueue {
  /** Live messages in stream order. */
  readonly messages: ReadMessage[];
  /** Sequence of the queue's first record still in the stream, and of its last. */
  firstSeq: number;
  topSeq: number;
  /** Sequence of its newest batch record (0: none): a new owner's takeover record is chained on it. */
  lastBatchSeq: number;
}

export async function readQueues(js: JetStreamClient, stream: string, filter: string): Promise<Map<string, ReadQueue>> {
  const queues = new Map<
    string,
    { byPosition: Map<number, ReadMessage>; firstSeq: number; topSeq: number; lastBatchSeq: number }
  >();
  await readStream(js, stream, filter, (message) => {
    const parts = message.subject.split(".");
    const kind = parts[parts.length - 1];
    const queueKey = fromToken(parts[parts.length - 2] as string);
    let queue = queues.get(queueKey);
    if (!queue)
      queues.set(queueKey, (queue = { byPosition: new Map(), firstSeq: message.seq, topSeq: 0, lastBatchSeq: 0 }));
    queue.topSeq = message.seq;
    const { byPosition } = queue;
    const mark = (position: number): void => {
      const found = byPosition.get(position);
      if (found) found.delivered = true;
    };
    const applyState = (state: StateRecord): void => {
      for (const position of state.delivered) mark(position);
      for (const position of state.acked) byPosition.delete(position);
    };
    switch (kind) {
      case RecordKind.Message:
        byPosition.set(positionOf(message.seq, 0), {
          seq: message.seq,
          index: 0,
          record: decodeMessageRecord(message.data),
          delivered: false,
        });
        return;
      case RecordKind.Batch: {
        queue.lastBatchSeq = message.seq;
        const { state, records } = decodeBatch(message.data);
        applyState(state);
        for (let index = 0; index < records.length; index++)
          byPosition.set(positionOf(message.seq, index), {
            seq: message.seq,
            index,
            record: decodeMessageRecord(records[index] as Uint8Array),
            delivered: false,
          });
        return;
      }
      case RecordKind.Mark:
        mark(positionOf(Number(message.string()), 0));
        return;
      case RecordKind.State:
        applyState(decodeState(message.data));
        return;
      default:
        // A record this version cannot read may hold messages: failing the read (the takeover retries)
        // is better than a short queue.
        throw new Error(`unknown record kind "${kind}" in ${message.subject} (sequence ${message.seq})`);
    }
  });
  const out = new Map<string, ReadQueue>();
  for (const [queueKey, queue] of queues)
    out.set(queueKey, {
      messages: [...queue.byPosition.values()],
      firstSeq: queue.firstSeq,
      topSeq: queue.topSeq,
      lastBatchSeq: queue.lastBatchSeq,
    });
  return out;
}
