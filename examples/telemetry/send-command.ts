/**
 * Sends a command from AMQP to a device over MQTT and waits for its
 * acknowledgement: published persistent on amq.topic with routing key
 * commands.<site>.<device>, which the device's QoS 2 subscription to
 * commands/<site>/<device> receives exactly once, even if the device is
 * away now and comes back later (its session is persistent).
 *
 *   node dist/examples/telemetry/send-command.js site1 dev1 reboot   # AMQP_URL
 */
import { randomUUID } from "node:crypto";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { isMain } from "../run-as-main.js";
import { ackTopic, checkName, commandTopic, routingKeyOf, type Command, type CommandAck } from "./topics.js";

export interface CommandLink {
  /** Publishes a command (confirmed by the broker); resolves to its id. */
  send(site: string, device: string, action: string): Promise<string>;
  /** The acknowledgements received so far, in order. */
  acks: CommandAck[];
  /** Resolves with the acknowledgement of `commandId` once it has arrived. */
  ackOf(commandId: string): Promise<CommandAck>;
  close(): Promise<void>;
}

/** One AMQP connection for commands out and acknowledgements back (a queue bound to acks.#). */
export async function openCommandLink(amqpUrl: string): Promise<CommandLink> {
  const connection: ChannelModel = await amqplib.connect(amqpUrl);
  const channel = await connection.createConfirmChannel();
  const acks: CommandAck[] = [];
  const waiting = new Map<string, (ack: CommandAck) => void>();
  await listenForAcks(channel, (ack) => {
    acks.push(ack);
    waiting.get(ack.commandId)?.(ack);
  });
  return {
    acks,
    async send(site, device, action) {
      const command: Command = { commandId: randomUUID(), action };
      const routingKey = routingKeyOf(commandTopic(checkName("site", site), checkName("device", device)));
      channel.publish("amq.topic", routingKey, Buffer.from(JSON.stringify(command)), {
        persistent: true,
        contentType: "application/json",
      });
      await channel.waitForConfirms();
      return command.commandId;
    },
    ackOf(commandId) {
      const ack = acks.find((a) => a.commandId === commandId);
      if (ack) return Promise.resolve(ack);
      return new Promise((resolve) => waiting.set(commandId, resolve));
    },
    close: () => connection.close(),
  };
}

async function listenForAcks(channel: Channel, onAck: (ack: CommandAck) => void): Promise<void> {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, "amq.topic", routingKeyOf(ackTopic("*", "*")));
  await channel.consume(
    queue,
    (message) => message && onAck(JSON.parse(message.content.toString("utf8")) as CommandAck),
    { noAck: true },
  );
}

if (isMain(import.meta.url)) {
  const [site, device, ...words] = process.argv.slice(2);
  if (site === undefined || device === undefined || words.length === 0) {
    console.error("usage: node dist/examples/telemetry/send-command.js <site> <device> <action...>");
    process.exit(2);
  }
  const link = await openCommandLink(process.env.AMQP_URL || "amqp://guest:guest@127.0.0.1:5672");
  const commandId = await link.send(site, device, words.join(" "));
  console.log(`sent ${commandId}; waiting for ${site}/${device} to acknowledge it (Ctrl-C to stop waiting)`);
  const ack = await link.ackOf(commandId);
  console.log(`acknowledged by ${ack.site}/${ack.device} at ${new Date(ack.at).toISOString()}`);
  await link.close();
}
