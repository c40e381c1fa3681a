/**
 * JetStream publishes answered on one subscription: a publish is a core
 * NATS message with a reply subject `<inbox>.<id>`, and JetStream's PubAck
 * (or error) comes back there. nats.js's `js.publish` is a request each:
 * a promise, a timer and an Error (its stack captured for the caller) per
 * message, which a stream entry's publish cannot afford (a CPU profile of
 * a publishing node had RequestError alone at 4 % of its time).
 * Unanswered publishes fail after `timeoutMs`, oldest first.
 */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { WriteTracker } from "./write-tracker.js";

const NO_RESPONDERS = 503;
const ERROR_KEY = Buffer.from('"error"');

export class PublishAcks {
  private readonly inbox = createInbox();
  /** Publish id -> the tracker's write number and when it was sent; in send order. */
  private readonly pending = new Map<number, { n: number; at: number }>();
  private next = 0;
  private readonly subscription: Subscription;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly tracker: WriteTracker,
    private readonly timeoutMs: number,
  ) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (_error, msg) => this.answered(msg) });
    this.sweep = setInterval(() => this.expire(Date.now()), 1000);
    this.sweep.unref();
  }

  /** Publishes `payload` as write `n` of the tracker; `msgID`: JetStream's deduplication id. */
  publish(subject: string, payload: Uint8Array, msgID: string | null, n: number): void {
    const id = ++this.next;
    this.pending.set(id, { n, at: Date.now() });
    let options: { reply: string; headers?: ReturnType<typeof headers> } = { reply: `${this.inbox}.${id}` };
    if (msgID !== null) {
      const h = headers();
      h.set("Nats-Msg-Id", msgID);
      options = { ...options, headers: h };
    }
    try {
      this.nc.publish(subject, payload, options);
    } catch (error) {
      this.pending.delete(id);
      this.tracker.finish(n, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private answered(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const sent = this.pending.get(id);
    if (sent === undefined) return; // answered after it timed out: already refused
    this.pending.delete(id);
    this.tracker.finish(sent.n, errorOf(msg));
  }

  private expire(now: number): void {
    for (const [id, sent] of this.pending) {
      if (now - sent.at < this.timeoutMs) return;
      this.pending.delete(id);
      this.tracker.finish(
        sent.n,
        new Error(`JetStream did not acknowledge a stream publish within ${this.timeoutMs} ms`),
      );
    }
  }

  close(): void {
    clearInterval(this.sweep);
    this.expire(Number.POSITIVE_INFINITY);
    this.subscription.unsubscribe();
  }
}

/** null for a PubAck; the reason for an error answer or no stream listening on the subject. */
function errorOf(msg: Msg): Error | null {
  if (msg.headers?.code === NO_RESPONDERS) return new Error("no JetStream stream took the publish (no responders)");
  const data = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
  if (data.indexOf(ERROR_KEY) < 0) return null;
  const answer = JSON.parse(data.toString("utf8")) as { error?: { description?: string; err_code?: number } };
  return new Error(
    `JetStream refused a stream publish: ${answer.error?.description ?? "unknown"} (${answer.error?.err_code ?? "?"})`,
  );
}
