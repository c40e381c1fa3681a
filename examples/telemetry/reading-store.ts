/**
 * The AMQP side of telemetry: a durable queue bound to amq.topic with
 * `sensors.*.*.*` receives every reading, alert and status the devices
 * publish over MQTT (RabbitMQ's mapping: topic sensors/site1/dev1/temp is
 * routing key sensors.site1.dev1.temp), and stores them, here as JSON lines.
 *
 *   node dist/examples/telemetry/reading-store.js   # AMQP_URL=amqp://guest:guest@127.0.0.1:5672 STORE_FILE=readings.jsonl
 */
import { appendFile } from "node:fs/promises";
import amqplib, { type ChannelModel, type ConsumeMessage } from "amqplib";
import { isMain, stopOnSignals } from "../run-as-main.js";

export const STORE_QUEUE = "telemetry.store";
export const STORE_BINDING = "sensors.*.*.*";

export interface StoredRow {
  routingKey: string;
  /** The JSON a device published (a reading or an alert), or the status text. */
  body: unknown;
}

export interface ReadingStore {
  connection: ChannelModel;
  stop(): Promise<void>;
}

/** Consumes readings; `store` is awaited before each ack, so a row is never lost between broker and storage. */
export async function startReadingStore(
  amqpUrl: string,
  store: (row: StoredRow) => Promise<void>,
): Promise<ReadingStore> {
  const connection = await amqplib.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertQueue(STORE_QUEUE, { durable: true });
  await channel.bindQueue(STORE_QUEUE, "amq.topic", STORE_BINDING);
  await channel.prefetch(100);
  const storeThenAck = async (message: ConsumeMessage): Promise<void> => {
    const text = message.content.toString("utf8");
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // A status is plain text ("online" / "offline").
    }
    try {
      await store({ routingKey: message.fields.routingKey, body });
    } catch (error) {
      console.error("store failed, the message goes back to the queue:", error);
      channel.nack(message, false, true);
      return;
    }
    channel.ack(message);
  };
  // Rows are stored in arrival order: one chain of promises keeps it so while store() is async. An ack on a
  // channel that is closing throws; the broker requeues what was not acked, so the chain just carries on.
  let chain = Promise.resolve();
  const { consumerTag } = await channel.consume(STORE_QUEUE, (message) => {
    if (message) chain = chain.then(() => storeThenAck(message)).catch(() => {});
  });
  return {
    connection,
    async stop() {
      await channel.cancel(consumerTag);
      await chain;
      await connection.close();
    },
  };
}

if (isMain(import.meta.url)) {
  const file = process.env.STORE_FILE || "telemetry-readings.jsonl";
  const store = await startReadingStore(process.env.AMQP_URL || "amqp://guest:guest@127.0.0.1:5672", (row) =>
    appendFile(file, `${JSON.stringify(row)}\n`),
  );
  console.log(`reading-store: ${STORE_QUEUE} (amq.topic ${STORE_BINDING}) → ${file}`);
  stopOnSignals(() => store.stop());
}
