/**
 * Posts one message into a chat room over AMQP: the room's STOMP users see
 * it, because /topic/room.<id> is amq.topic with routing key room.<id>.
 *
 *   node dist/examples/chat/post.js <room> <nickname> <text...>   # AMQP_URL=amqp://guest:guest@127.0.0.1:5672
 */
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";

/** What the page sends and shows: JSON, as content-type says. */
export interface ChatMessage {
  from: string;
  text: string;
  /** ms since the epoch */
  at: number;
}

export const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function postToRoom(amqpUrl: string, room: string, from: string, text: string): Promise<void> {
  // Dots, * and # would change what the routing key matches.
  if (!ROOM_ID.test(room)) throw new Error(`room ids are letters, digits, - and _: ${JSON.stringify(room)}`);
  const connection = await amqplib.connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    const message: ChatMessage = { from, text, at: Date.now() };
    channel.publish("amq.topic", `room.${room}`, Buffer.from(JSON.stringify(message)), {
      contentType: "application/json",
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [room, from, ...words] = process.argv.slice(2);
  if (room === undefined || from === undefined || words.length === 0) {
    console.error("usage: node dist/examples/chat/post.js <room> <nickname> <text...>");
    process.exit(2);
  }
  await postToRoom(process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672", room, from, words.join(" "));
  console.log(`posted to room ${room}`);
}
