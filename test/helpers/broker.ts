import assert from "node:assert/strict";
import { Writable } from "node:stream";
import amqplib from "amqplib";
import { startBroker, type BrokerOptions, type RunningBroker } from "../../src/index.js";
import { createLogger } from "../../src/log.js";

export interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * A broker for one test file, on ephemeral ports, with its log captured so
 * that `stop()` can fail the suite on any error logged (hidden damage), and
 * check that a fresh client is still served.
 */
export class TestBroker {
  /** Log entries before this index were checked by an earlier afterTest(). */
  private checkedUpTo = 0;
  /** Errors the running test declared (expectLoggedError); they do not fail it. */
  private expected: RegExp[] = [];
  private readonly accepted = new Set<LogEntry>();
  /** Client connections open when the running test started. */
  private connectionsAtStart = new Set<number>();

  private constructor(
    readonly broker: RunningBroker,
    readonly logs: LogEntry[],
  ) {}

  static async start(options: BrokerOptions = {}): Promise<TestBroker> {
    const logs: LogEntry[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString("utf8").split("\n")) {
          if (line.trim() !== "") logs.push(JSON.parse(line) as LogEntry);
        }
        callback();
      },
    });
    const logger = createLogger({ level: "info", destination });
    const broker = await startBroker({ host: "127.0.0.1", logger, ...options });
    return new TestBroker(broker, logs);
  }

  get url(): string {
    return this.broker.urls.amqp as string;
  }

  get port(): number {
    return this.broker.ports.amqp as number;
  }

  /** amqp://user:pass@host:port for another user. */
  urlFor(user: string, password: string, vhost = ""): string {
    return `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${encodeURIComponent(vhost)}`;
  }

  /** Error-level entries logged so far that no test declared. */
  errors(): LogEntry[] {
    return this.logs.filter((entry) => entry.level >= 50 && !this.accepted.has(entry));
  }

  /**
   * The running test logs an error on purpose (e.g. it injects a failing
   * write): entries whose msg or err.message match do not fail it.
   */
  expectLoggedError(pattern: RegExp): void {
    this.expected.push(pattern);
  }

  /** Called by the fixtures before each test. */
  beforeTest(): void {
    this.connectionsAtStart = new Set([...this.broker.core.connections].map((connection) => connection.id));
  }

  /**
   * Called by the fixtures after each test (CONVENTIONS.md #11): the test
   * left no error in the log, no client connection of its own open, and a
   * fresh client can still open a channel.
   */
  async afterTest(): Promise<void> {
    const logged = this.logs.slice(this.checkedUpTo).filter((entry) => entry.level >= 50);
    this.checkedUpTo = this.logs.length;
    const expected = this.expected;
    this.expected = [];
    const unexpected = logged.filter((entry) => {
      const text = `${entry.msg} ${typeof entry["err"] === "object" && entry["err"] !== null ? String((entry["err"] as { message?: unknown }).message) : ""}`;
      if (!expected.some((pattern) => pattern.test(text))) return true;
      this.accepted.add(entry);
      return false;
    });
    assert.deepEqual(
      unexpected,
      [],
      "the broker logged errors during this test (declare expected ones with expectLoggedError)",
    );
    // A client closed at the end of the test may take a moment to be gone on the broker's side; a leak never goes.
    const leaked = await waitFor(() => {
      const open = [...this.broker.core.connections].filter(
        (connection) => !this.connectionsAtStart.has(connection.id),
      );
      return open.length === 0 ? [] : null;
    }, LEAK_WAIT_MS).catch(() =>
      [...this.broker.core.connections]
        .filter((connection) => !this.connectionsAtStart.has(connection.id))
        .map(
          (connection) =>
            `${connection.protocol} connection ${connection.id} from ${connection.remoteAddress}:${connection.remotePort} (user ${connection.user})`,
        ),
    );
    assert.deepEqual(leaked, [], "the test left client connections open");
    if (this.broker.urls.amqp !== undefined) {
      const connection = await amqplib.connect(this.url);
      try {
        await connection.createChannel();
      } finally {
        await connection.close();
      }
    }
  }

  /** A fresh client can still do a round trip: the broker survived whatever the test did. */
  async assertHealthy(): Promise<void> {
    const connection = await amqplib.connect(this.url);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true });
      channel.sendToQueue(queue, Buffer.from("ping"));
      const message = await waitFor(async () => (await channel.get(queue, { noAck: true })) || null);
      assert.equal(message.content.toString(), "ping");
    } finally {
      await connection.close();
    }
  }

  async stop(): Promise<void> {
    try {
      await this.assertHealthy();
      assert.deepEqual(this.errors(), [], "the broker logged errors");
    } finally {
      await this.broker.stop();
    }
  }
}

const LEAK_WAIT_MS = 5000;

/** Polls until `probe` returns a value (not null/undefined/false) or the timeout passes. */
export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
