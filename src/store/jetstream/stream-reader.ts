/** Reads every message of a stream under a subject filter once, oldest first (recovery of a queue, or of all). */
import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";

/** How long a read may go without reaching the end before it fails (the caller retries: a takeover, a start). */
export const READ_DEADLINE_MS = 30_000;

/** `lastPerSubject`: only the newest message of each subject (a KV bucket's current values). */
export async function readStream(
  js: JetStreamClient,
  stream: string,
  filter: string,
  each: (message: JsMsg) => void,
  lastPerSubject = false,
): Promise<void> {
  // An ordered consumer: ephemeral, flow-controlled, recreated by the client on a gap (2.9 takes one filter_subject).
  const consumer = await js.consumers.get(stream, {
    filter_subjects: filter,
    ...(lastPerSubject ? { deliver_policy: DeliverPolicy.LastPerSubject } : {}),
  });
  try {
    const info = await consumer.info(true);
    if (info.num_pending === 0) return;
    const deadline = Date.now() + READ_DEADLINE_MS;
    let lastSeq = 0;
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      for await (const message of batch) {
        // A consumer recreated after a gap starts past the last sequence seen; never hand a message twice.
        if (message.seq <= lastSeq) continue;
        lastSeq = message.seq;
        each(message);
        if (message.info.pending === 0) return;
      }
      // A fetch that ends before the message with nothing pending is not the end of the stream: while
      // JetStream elects a stream leader (a NATS server died) the ordered consumer is being recreated and
      // fetches expire empty. Taking that as the end gave a new owner a short queue and stranded confirmed
      // messages (the NATS-server kill round of test/e2e/cluster/owner-kill.test.ts). Only the server's
      // own count ends the read early (trailing messages deleted meanwhile); otherwise the read fails.
      const now = await consumer.info().catch(() => null);
      if (now !== null && now.num_pending === 0) {
        if (lastSeq >= now.delivered.stream_seq) return;
        throw new Error(
          `read of stream ${stream} (${filter}) lost deliveries up to sequence ${now.delivered.stream_seq}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`read of stream ${stream} (${filter}) did not complete within ${READ_DEADLINE_MS} ms`);
    }
  } finally {
    await consumer.delete().catch(() => false);
  }
}
