/**
 * JetStream publishes with a callback, answered through one inbox
 * subscription per connection, instead of nats.js's `js.publish` (a
 * request each). nats.js builds per request a promise, a timer, and on
 * every *successful* reply a `RequestError("cancelled")` (its stack
 * captured) to reject a promise already resolved (nats-core request.js,
 * RequestOne.cancel): ~6 % of a queue owner's CPU in a session 7 profile
 * of `cluster-throughput p1`, for one batch record per JetStream round
 * trip. Here a write costs one entry in a map; one timer sweeps them.
 *
 * Same wire as `js.publish`: PUB <subject> <reply> with the JetStream
 * headers; the PubAck is `{"stream","seq"}` or `{"error":{code, err_code,
 * description}}` (its description, e.g. "wrong last sequence: 41", is the
 * error's message, as nats.js's JetStreamApiError has it); no stream on
 * the subject is a 503 status from the server (no responders).
 */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";

/** The stream sequence JetStream stored the message at, or why it did not. */
export type PublishDone = (error: Error | null, seq: number) => void;

interface Pending {
  done: PublishDone;
  deadline: number;
}

const SWEEP_MS = 250;

export class StreamPublisher {
  private readonly inbox: string;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private subscription: Subscription | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly nc: NatsConnection,
    /** A write not answered in this time fails (it may still land: the owner chain tells, owner-chain.ts). */
    private readonly timeoutMs: number,
  ) {
    this.inbox = createInbox();
  }

  /** `expectedLastSubjectSeq`: the Nats-Expected-Last-Subject-Sequence header (owner-chain.ts), if any. */
  publish(subject: string, payload: Uint8Array, expectedLastSubjectSeq: number | null, done: PublishDone): void {
    this.subscribe();
    const id = this.nextId++;
    this.pending.set(id, { done, deadline: Date.now() + this.timeoutMs });
    this.sweep();
    try {
      if (expectedLastSubjectSeq === null) this.nc.publish(subject, payload, { reply: `${this.inbox}.${id}` });
      else {
        const h = headers();
        h.set("Nats-Expected-Last-Subject-Sequence", String(expectedLastSubjectSeq));
        this.nc.publish(subject, payload, { reply: `${this.inbox}.${id}`, headers: h });
      }
    } catch (error) {
      this.pending.delete(id);
      done(error instanceof Error ? error : new Error(String(error)), 0);
    }
  }

  /** Unanswered publishes fail now (shutdown). */
  close(): void {
    this.failOlderThan(Infinity);
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private subscribe(): void {
    if (this.subscription !== null) return;
    this.subscription = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error === null) this.answer(msg);
      },
    });
  }

  private answer(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    const pending = this.pending.get(id);
    if (pending === undefined) return; // timed out already
    this.pending.delete(id);
    const [error, seq] = parsePubAck(msg);
    pending.done(error, seq);
  }

  /** One timer for every write in flight, running only while there are some. */
  private sweep(): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(() => {
      this.failOlderThan(Date.now());
      if (this.pending.size === 0 && this.sweeper !== null) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  private failOlderThan(now: number): void {
    for (const [id, pending] of this.pending) {
      if (pending.deadline > now) continue;
      this.pending.delete(id);
      pending.done(new Error(`JetStream did not answer a publish within ${this.timeoutMs} ms (timeout)`), 0);
    }
  }
}

interface PubAckJson {
  stream?: string;
  seq?: number;
  error?: { code?: number; err_code?: number; description?: string };
}

/** [null, seq] for a stored message, else [its error, 0]. */
export function parsePubAck(msg: Pick<Msg, "data" | "headers">): [Error | null, number] {
  const status = msg.headers?.code ?? 0;
  if (status === 503) return [new Error("no stream takes this subject (no responders)"), 0];
  let ack: PubAckJson;
  try {
    ack = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString()) as PubAckJson;
  } catch {
    return [new Error(`JetStream answered a publish with status ${status} and no acknowledgement`), 0];
  }
  if (ack.error) return [new Error(ack.error.description ?? `JetStream error ${ack.error.err_code ?? ""}`), 0];
  if (!ack.stream || typeof ack.seq !== "number") return [new Error("invalid JetStream acknowledgement"), 0];
  return [null, ack.seq];
}
