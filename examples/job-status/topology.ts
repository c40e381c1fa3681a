/**
 * The queues of the job service, RabbitMQ's usual retry pattern:
 *
 *   POST /jobs ──► jobs ──► worker ── ack (done)
 *                  ▲  │ nack, requeue=false (the job threw)
 *                  │  ▼ dead-lettered (x-dead-letter-routing-key)
 *                  jobs.retry   waits x-message-ttl, then is dead-lettered back
 *
 * A job that has failed 1 + maxRetries times (counted by the `rejected`
 * entry of its x-death header) is published to jobs.dead instead, where
 * it stays for a person to look at. Everything durable, messages persistent.
 */
import type { Channel, ConfirmChannel, Message, Options } from "amqplib";

export const JOBS_QUEUE = "jobs";
export const RETRY_QUEUE = "jobs.retry";
export const DEAD_QUEUE = "jobs.dead";

/**
 * Declares the three queues; server and workers both call it, so either may
 * start first. The retry delay is a queue argument: every process must use
 * the same RETRY_DELAY_MS, or the second declaration fails with
 * 406 PRECONDITION_FAILED (inequivalent arg 'x-message-ttl').
 */
export async function declareJobQueues(channel: Channel, retryDelayMs: number): Promise<void> {
  await channel.assertQueue(JOBS_QUEUE, {
    durable: true,
    // The default exchange routes by queue name, so no exchange of our own is needed.
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": RETRY_QUEUE },
  });
  await channel.assertQueue(RETRY_QUEUE, {
    durable: true,
    arguments: { "x-message-ttl": retryDelayMs, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": JOBS_QUEUE },
  });
  await channel.assertQueue(DEAD_QUEUE, { durable: true });
}

/** How many times this job has already failed: the count of its x-death entry for (jobs, rejected). */
export function failuresSoFar(message: Message): number {
  const deaths: unknown = message.properties.headers?.["x-death"];
  if (!Array.isArray(deaths)) return 0;
  for (const death of deaths as Array<Record<string, unknown>>) {
    if (death.queue === JOBS_QUEUE && death.reason === "rejected" && typeof death.count === "number")
      return death.count;
  }
  return 0;
}

/** Publishes a persistent message to a queue and resolves once the broker has confirmed it (it is on disk). */
export function sendConfirmed(
  channel: ConfirmChannel,
  queue: string,
  body: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.sendToQueue(queue, body, { ...options, persistent: true }, (error: unknown) =>
      error
        ? reject(
            new Error(
              `${queue} did not take the message: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
            ),
          )
        : resolve(),
    );
  });
}
