/**
 * DESIGN §4 / issue 11, "a full disk": the data dir on a real filesystem
 * that fills up (a tmpfs mounted with size=, so every write past it fails
 * with ENOSPC in the kernel, not in a test double). Persistent publishes
 * with confirms get nacks and never acks while it is full, the broker keeps
 * serving, publishes are confirmed again once space returns, and a restart
 * on that dir recovers every confirmed message.
 *
 * Mounting needs root (CI runs as root). Elsewhere the test is skipped;
 * under CI=true a failed mount fails it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import { TestBroker } from "../../helpers/broker.js";

/** Small enough to fill in a second, large enough for the store's files and a few hundred KB of messages. */
const FILESYSTEM_BYTES = 2 * 1024 * 1024;
/** Taken from the filesystem before the broker starts, and given back to "free space". */
const BALLAST_BYTES = 512 * 1024;
const BODY = Buffer.alloc(32 * 1024, 0x6d);

const canMount = process.getuid?.() === 0;
const skip =
  canMount || process.env.CI === "true" ? false : "mounting a size-limited tmpfs needs root (CI runs as root)";

let mountPoint = "";
before(() => {
  if (skip) return;
  mountPoint = mkdtempSync(join(tmpdir(), "warren-full-disk-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${FILESYSTEM_BYTES},mode=0700`, "tmpfs", mountPoint]);
});
after(() => {
  if (mountPoint === "") return;
  try {
    // Lazily if a failed test left a broker's files open: the mount goes once they close.
    execFileSync("umount", ["-l", mountPoint]);
  } finally {
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

type Outcome = "ack" | "nack";

test(
  "a full filesystem: persistent publishes are nacked, never acked; the broker serves on; after space returns they are confirmed again, and a restart recovers every confirmed one",
  { skip },
  async () => {
    const dir = join(mountPoint, "data");
    const ballast = join(mountPoint, "ballast");
    writeFileSync(ballast, Buffer.alloc(BALLAST_BYTES));
    const confirmed: string[] = [];
    let broker = await TestBroker.start({ storage: { dir, segmentLog: { segmentSize: 256 * 1024 } } });
    try {
      // The disk alarm would block publishers before the filesystem fills (alarms.test.ts); here the write itself must fail.
      broker.broker.alarms.setDiskFreeLimit(0);
      const connection = await amqplib.connect(broker.url);
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue("full-disk", { durable: true });
      const publish = (body: string): Promise<Outcome> =>
        new Promise((resolve) =>
          channel.sendToQueue(
            "full-disk",
            Buffer.concat([Buffer.from(`${body}:`), BODY]),
            { persistent: true },
            (error) => resolve(error ? "nack" : "ack"),
          ),
        );

      // Fill: one at a time, so each answer belongs to one body.
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 200 && !outcomes.includes("nack"); i++) {
        const outcome = await publish(`m${i}`);
        outcomes.push(outcome);
        if (outcome === "ack") confirmed.push(`m${i}`);
      }
      assert.ok(confirmed.length > 0, "some publishes fitted before the disk filled");
      assert.equal(outcomes.at(-1), "nack", `the filesystem filled within 200 publishes: ${outcomes.join(",")}`);
      // Still full: every further persistent publish is refused, none acknowledged.
      assert.deepEqual(await Promise.all(["full1", "full2", "full3"].map(publish)), ["nack", "nack", "nack"]);
      assert.ok(
        broker.logs.some(
          (entry) =>
            entry.level >= 50 &&
            entry.msg.startsWith("message log: write failed") &&
            JSON.stringify(entry).includes("ENOSPC"),
        ),
        "the store logged ENOSPC",
      );

      // The broker serves on: a transient message through a fresh connection, and the old channel is open.
      const other = await amqplib.connect(broker.url);
      const otherChannel = await other.createChannel();
      const { queue } = await otherChannel.assertQueue("", { exclusive: true });
      otherChannel.sendToQueue(queue, Buffer.from("transient"));
      const got = await new Promise<string>(
        (resolve) =>
          void otherChannel.consume(queue, (message) => message && resolve(message.content.toString()), {
            noAck: true,
          }),
      );
      assert.equal(got, "transient");
      await other.close();

      // Space returns: the same channel's publishes are confirmed again.
      await rm(ballast);
      let after = "nack" as Outcome;
      for (let i = 0; i < 3 && after === "nack"; i++) {
        after = await publish(`after${i}`);
        if (after === "ack") confirmed.push(`after${i}`);
      }
      assert.equal(after, "ack", "a publish is confirmed once space returned");
      await connection.close();
    } finally {
      // The write failures were this test's doing.
      for (const entry of broker.logs.filter((e) => e.level >= 50 && e.msg.startsWith("message log: write failed")))
        broker.logs.splice(broker.logs.indexOf(entry), 1);
      await broker.stop();
    }

    // Recovery of that dir starts, and holds every confirmed message (the refused ones may or may not be there: never confirmed).
    broker = await TestBroker.start({ storage: { dir, segmentLog: { segmentSize: 256 * 1024 } } });
    try {
      // A 2 MiB filesystem is always under the default free-disk limit: without this the harness's fresh publisher would be blocked.
      broker.broker.alarms.setDiskFreeLimit(0);
      const bodies = (await drainQueueAt(broker.url, "full-disk")).map((body) => body.split(":")[0] as string);
      for (const body of confirmed)
        assert.ok(bodies.includes(body), `confirmed '${body}' recovered (got ${bodies.length})`);
    } finally {
      await broker.stop();
    }
  },
);
