import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import type { Channel, ChannelModel, ConfirmChannel } from "amqplib";

/** The reply code and text of an AMQP close, as amqplib or @cloudamqp/amqp-client reports it. */
export interface AmqpClose {
  code: number;
  text: string;
}

/**
 * Reads the close out of either client's error: amqplib says
 * `... 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - ..."`,
 * amqp-client says `channel 1 closed: PRECONDITION_FAILED - ... (406)`.
 */
export function amqpCloseOf(error: unknown): AmqpClose {
  const message = error instanceof Error ? error.message : String(error);
  const amqplib = /(\d{3}) \([A-Z_-]+\) with message "(.*)"$/s.exec(message);
  if (amqplib) return { code: Number(amqplib[1]), text: amqplib[2] as string };
  const cloudamqp = /closed: (.*) \((\d{3})\)$/s.exec(message);
  if (cloudamqp) return { code: Number(cloudamqp[2]), text: cloudamqp[1] as string };
  throw new Error(`not an AMQP close: ${message}`);
}

/** Asserts the promise fails with exactly this reply code and text. */
export async function rejectsWithClose(promise: Promise<unknown>, code: number, text: string): Promise<void> {
  let failure: unknown = null;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  assert.ok(failure !== null, `expected a ${code} close, but the operation succeeded`);
  assert.deepEqual(amqpCloseOf(failure), { code, text });
}

/** The next 'error' an amqplib channel or connection emits (an asynchronous close by the server). */
export function nextError(emitter: EventEmitter): Promise<AmqpClose> {
  return new Promise((resolve) => emitter.once("error", (error: unknown) => resolve(amqpCloseOf(error))));
}

/**
 * An amqplib channel whose server-side close is expected by the test: amqplib
 * emits it as 'error' besides rejecting the pending call, and an 'error'
 * without a listener would crash the test process.
 */
export async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  return channel;
}

/** The same for a confirm channel. */
export async function openConfirmChannel(connection: ChannelModel): Promise<ConfirmChannel> {
  const channel = await connection.createConfirmChannel();
  channel.on("error", () => {});
  return channel;
}
