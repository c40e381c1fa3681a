import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import { subjectToken } from "./subject-token.js";
import { Kind, RecordWriter } from "./wire.js";

/**
 * The subjects a node listens on: publishes forwarded to it, consumer
 * control, deliveries to its consumers, questions about queues it owns.
 */
export const routeSubjects = (node: string): { publish: string; control: string; deliver: string; ask: string } => {
  const token = subjectToken(node);
  return {
    publish: `warren.route.${token}.pub`,
    control: `warren.route.${token}.ctl`,
    deliver: `warren.route.${token}.dlv`,
    ask: `warren.route.${token}.ask`,
  };
};

/**
 * How long a publishing node waits for an owner's answer before it nacks.
 * A request sent after the owner died fails at once ("no responders"); one
 * in flight when it died would wait for this. The owner answers once
 * JetStream acknowledged, which has its own 5 s limit (nats-connection.ts).
 */
export const FORWARD_TIMEOUT_MS = 6000;

interface PublishBatch {
  writer: RecordWriter;
  /** Called with the owner's status bytes, or an error for the whole batch. */
  answers: Array<(status: number | Error) => void>;
}

/**
 * Outgoing records to other nodes, batched per node and subject and sent
 * once per event-loop turn: a burst of publishes or acks from one client
 * chunk costs one NATS message. NATS keeps one connection's messages in
 * order, so a node's forwarded publishes, acks and subscriptions reach the
 * owner in the order the clients sent them.
 */
export class NodeLinks {
  private readonly oneWay = new Map<string, RecordWriter>();
  private readonly publishes = new Map<string, PublishBatch>();
  /** Batches sent and not answered yet, per node: failed at once when that node is found dead. */
  private readonly inFlight = new Map<string, Set<PublishBatch>>();
  private flushScheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly self: string,
    private readonly logger: Logger,
  ) {}

  /** A writer for control records to `node`'s owner side, or deliveries to its consumers. */
  to(subject: string): RecordWriter {
    let writer = this.oneWay.get(subject);
    if (writer === undefined) {
      writer = new RecordWriter();
      this.oneWay.set(subject, writer);
    }
    if (writer.empty) writer.u8(Kind.From).string(this.self);
    this.scheduleFlush();
    return writer;
  }

  /** A writer for one forwarded publish to `node`; `answer` gets its status byte. */
  publishTo(node: string, answer: (status: number | Error) => void): RecordWriter {
    let batch = this.publishes.get(node);
    if (batch === undefined) {
      batch = { writer: new RecordWriter(), answers: [] };
      this.publishes.set(node, batch);
    }
    batch.answers.push(answer);
    this.scheduleFlush();
    return batch.writer;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.flushScheduled = false;
    for (const [subject, writer] of this.oneWay) {
      if (writer.empty) continue;
      try {
        this.nc.publish(subject, writer.take());
      } catch (error) {
        this.logger.warn({ err: error, subject }, "cluster record not sent");
      }
    }
    for (const [node, batch] of this.publishes) {
      this.publishes.delete(node);
      let pending = this.inFlight.get(node);
      if (pending === undefined) this.inFlight.set(node, (pending = new Set()));
      pending.add(batch);
      const settle = (statuses: Uint8Array | Error): void => {
        if (!pending.delete(batch)) return;
        batch.answers.forEach((answer, i) =>
          answer(
            statuses instanceof Error ? statuses : (statuses[i] ?? new Error("short answer from the queue's owner")),
          ),
        );
      };
      this.nc
        .request(routeSubjects(node).publish, batch.writer.take(), { timeout: FORWARD_TIMEOUT_MS })
        .then((reply) => settle(reply.data))
        .catch((error: unknown) => settle(error instanceof Error ? error : new Error(String(error))));
    }
  }

  /** `node` is dead: its unanswered forwards are refused now rather than at their timeout. */
  failInFlight(node: string): void {
    const pending = this.inFlight.get(node);
    if (pending === undefined) return;
    this.inFlight.delete(node);
    const failure = new Error(`node ${node} died before it answered`);
    for (const batch of pending) for (const answer of batch.answers) answer(failure);
  }
}
