import { startBroker } from "../src/index.js";

/**
 * The AMQP URL the examples talk to: $AMQP_URL when set (a RabbitMQ or a
 * running Warren), otherwise a Warren embedded in this process on an
 * ephemeral port, stopped by `close()`.
 */
export async function brokerUrl(): Promise<{ url: string; close: () => Promise<void> }> {
  const external = process.env.AMQP_URL;
  if (external) return { url: external, close: async () => {} };
  const broker = await startBroker();
  return { url: broker.urls.amqp, close: () => broker.stop() };
}

/** Resolves once `count` calls of the returned `done` have been made. */
export function countdown(count: number): { done: () => void; finished: Promise<void> } {
  let resolve: () => void = () => {};
  const finished = new Promise<void>((r) => (resolve = r));
  let left = count;
  if (left === 0) resolve();
  return {
    done: () => {
      left--;
      if (left === 0) resolve();
    },
    finished,
  };
}
