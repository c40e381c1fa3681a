/** Reads every message of a stream under a subject filter once, oldest first (recovery of a queue, or of all). */
import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";

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
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      let seen = 0;
      for await (const message of batch) {
        seen++;
        each(message);
        if (message.info.pending === 0) return;
      }
      if (seen === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => false);
  }
}
