/**
 * Work queue with fair dispatch (RabbitMQ tutorial 2): two workers share a
 * durable queue; prefetch 1 means a busy worker gets no new task until it
 * acks, so the quick worker takes more of the load.
 */
import amqplib from "amqplib";
import { brokerUrl, countdown } from "./broker-url.js";

const { url, close } = await brokerUrl();
const connection = await amqplib.connect(url);
const queue = "example-tasks";
const tasks = ["task 1 ....", "task 2 .", "task 3 .", "task 4 .", "task 5 .", "task 6 ."];
const all = countdown(tasks.length);
const handled: Record<string, number> = { slow: 0, quick: 0 };

async function worker(name: "slow" | "quick", msPerDot: number): Promise<void> {
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true });
  await channel.prefetch(1);
  await channel.consume(queue, (message) => {
    if (!message) return;
    const task = message.content.toString();
    const dots = task.split(".").length - 1;
    setTimeout(() => {
      console.log(`[${name}] done ${task}`);
      handled[name]!++;
      channel.ack(message);
      all.done();
    }, dots * msPerDot);
  });
}

await worker("slow", 100);
await worker("quick", 5);
const producer = await connection.createConfirmChannel();
await producer.assertQueue(queue, { durable: true });
for (const task of tasks) producer.sendToQueue(queue, Buffer.from(task), { persistent: true });
await producer.waitForConfirms();
console.log(`sent ${tasks.length} tasks`);
await all.finished;
console.log(`all ${tasks.length} tasks done: slow worker ${handled.slow}, quick worker ${handled.quick}`);
await producer.deleteQueue(queue);
await connection.close();
await close();
