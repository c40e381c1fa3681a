import { after, afterEach, before, beforeEach } from "node:test";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import type { BrokerOptions } from "../../src/index.js";
import { TestBroker } from "./broker.js";

/** What a fixture opened, readable once its before() hook has run. */
export interface BrokerFixture {
  readonly broker: TestBroker;
}

export interface AmqpFixture extends BrokerFixture {
  readonly connection: ChannelModel;
  readonly channel: Channel;
}

function opened<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is only open while the file's tests run`);
  return value;
}

/** After each test, not only each file: no error logged, no client connection left open, a fresh client served. */
function checkEachTest(broker: () => TestBroker | undefined): void {
  beforeEach(() => broker()?.beforeTest());
  afterEach(async () => {
    await broker()?.afterTest();
  });
}

/**
 * One broker for the whole test file: started before its tests, stopped
 * after them by TestBroker.stop(), which also fails the file if an error was
 * logged or a fresh client is no longer served. Call at module top level.
 *
 * `afterStart`: the file's own setup (users, queues) once the broker is up.
 * It runs inside this fixture's hook because Node 20 starts a file's
 * top-level before() hooks together, without waiting for the previous one.
 */
export function useBroker(
  options: BrokerOptions = {},
  afterStart?: (broker: TestBroker) => Promise<void>,
): BrokerFixture {
  let broker: TestBroker | undefined;
  before(async () => {
    broker = await TestBroker.start(options);
    await afterStart?.(broker);
  });
  checkEachTest(() => broker);
  after(async () => {
    await broker?.stop();
  });
  return {
    get broker() {
      return opened(broker, "the broker");
    },
  };
}

/** useBroker plus one amqplib connection and channel, closed before the broker stops. */
export function useAmqpChannel(options: BrokerOptions = {}): AmqpFixture {
  let broker: TestBroker | undefined;
  let connection: ChannelModel | undefined;
  let channel: Channel | undefined;
  before(async () => {
    broker = await TestBroker.start(options);
    connection = await amqplib.connect(broker.url);
    channel = await connection.createChannel();
  });
  checkEachTest(() => broker);
  after(async () => {
    await connection?.close();
    await broker?.stop();
  });
  return {
    get broker() {
      return opened(broker, "the broker");
    },
    get connection() {
      return opened(connection, "the connection");
    },
    get channel() {
      return opened(channel, "the channel");
    },
  };
}

/** Empties `queue` with no-ack basic.get; the bodies as text, in queue order. */
export async function drainQueue(channel: Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return out;
    out.push(message.content.toString());
  }
}

/** drainQueue over a connection of its own, closed after: for tests that restart brokers between checks. */
export async function drainQueueAt(url: string, queue: string): Promise<string[]> {
  const connection = await amqplib.connect(url);
  try {
    return await drainQueue(await connection.createChannel(), queue);
  } finally {
    await connection.close();
  }
}
