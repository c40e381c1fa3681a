/**
 * Crash safety with a real process kill: a child broker, a publisher with
 * confirms, SIGKILL at a random moment, restart on the same data dir.
 * Every confirmed message must come back (at least once); nothing may come
 * back twice.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-crash-"));
});
after(async () => {
  killAllChildren();
  await rm(dir, { recursive: true, force: true });
});

test("SIGKILL at random moments: every confirmed persistent message survives, none comes back twice", async (t) => {
  const confirmed = new Set<string>();
  const published = new Set<string>();
  const rounds = 4;
  for (let round = 0; round < rounds; round++) {
    const { child, ports } = await startChildBroker(dir, ["amqp"]);
    const port = ports.amqp as number;
    const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    connection.on("error", () => {});
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => {});
    await channel.assertQueue("crash", { durable: true });
    let stop = false;
    const publishing = (async () => {
      let n = 0;
      while (!stop) {
        // A window of 100 unconfirmed publishes, as the benchmark does.
        const batch: Promise<void>[] = [];
        for (let i = 0; i < 100 && !stop; i++) {
          const id = `r${round}-${n++}`;
          published.add(id);
          batch.push(
            new Promise<void>((resolve) => {
              try {
                channel.sendToQueue("crash", Buffer.from(id), { persistent: true, messageId: id }, (err: unknown) => {
                  if (!err) confirmed.add(id);
                  resolve();
                });
              } catch {
                stop = true;
                resolve();
              }
            }),
          );
        }
        await Promise.all(batch);
      }
    })();
    // A random moment: while publishes, writes and fsyncs are in flight.
    await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(Math.random() * 450)));
    await killed(child);
    stop = true;
    await publishing;
  }
  assert.ok(confirmed.size > 0, "the publisher got confirms before the kills");

  const { child } = await startChildBroker(dir, ["amqp"]).then(async (started) => {
    const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${started.ports.amqp}`);
    const channel = await connection.createChannel();
    const counts = new Map<string, number>();
    const { messageCount } = await channel.checkQueue("crash");
    for (let i = 0; i < messageCount; i++) {
      const m = await channel.get("crash", { noAck: true });
      assert.ok(m, "every counted message can be fetched");
      const id = m.content.toString();
      assert.equal(m.properties.messageId, id);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.equal(await channel.get("crash", { noAck: true }), false);
    await connection.close();
    const missing = [...confirmed].filter((id) => !counts.has(id));
    assert.deepEqual(missing, [], `confirmed messages lost (${missing.length} of ${confirmed.size})`);
    const twice = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    assert.deepEqual(twice, [], "messages delivered twice");
    const unknown = [...counts.keys()].filter((id) => !published.has(id));
    assert.deepEqual(unknown, []);
    t.diagnostic(`published ${published.size}, confirmed ${confirmed.size}, recovered ${counts.size}`);
    return started;
  });
  await killed(child);
});
