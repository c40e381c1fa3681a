/**
 * When a publishing connection is read from (PublisherFlow, public API only).
 * The input is a recording stand-in for a socket; the queue is a real one
 * with a real backlog.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PublisherFlow, type PausableInput } from "../../../src/transport/publisher-flow.js";
import { RecordingConsumer, dispatched, message, vhostWithQueue } from "./recording-consumer.js";

class RecordingInput implements PausableInput {
  paused = false;
  readonly calls: string[] = [];
  pause(): void {
    this.paused = true;
    this.calls.push("pause");
  }
  resume(): void {
    this.paused = false;
    this.calls.push("resume");
  }
}

function flow(open = true): { input: RecordingInput; flow: PublisherFlow; setOpen: (value: boolean) => void } {
  const input = new RecordingInput();
  let isOpen = open;
  return { input, flow: new PublisherFlow(input, () => isOpen), setOpen: (value) => (isOpen = value) };
}

test("a chunk that carried publishes pauses reading until the connection's flush ends the yield", () => {
  const { input, flow: f } = flow();
  f.published();
  assert.equal(f.chunkDone(), true);
  assert.equal(input.paused, true);
  f.endYield();
  assert.equal(input.paused, false);
  assert.deepEqual(input.calls, ["pause", "resume"]);
});

test("a chunk without publishes does not yield, and endYield without a yield does nothing", () => {
  const { input, flow: f } = flow();
  assert.equal(f.chunkDone(), false);
  f.endYield();
  assert.deepEqual(input.calls, []);
});

test("a resource alarm pauses a connection that has published, and only that one; clearing it resumes", () => {
  const publisher = flow();
  const consumerOnly = flow();
  publisher.flow.published();
  publisher.flow.chunkDone();
  publisher.flow.endYield();
  publisher.flow.setBlocked("memory");
  consumerOnly.flow.setBlocked("memory");
  assert.equal(publisher.input.paused, true);
  assert.deepEqual(consumerOnly.input.calls, [], "RabbitMQ blocks only connections that publish");
  publisher.flow.setBlocked(null);
  assert.equal(publisher.input.paused, false);
});

test("a connection that publishes for the first time while the alarm is set is paused after that chunk", () => {
  const { input, flow: f } = flow();
  f.setBlocked("disk");
  assert.equal(input.paused, false);
  f.published();
  f.chunkDone();
  f.endYield();
  assert.equal(input.paused, true, "still paused after the yield: the alarm holds it");
});

test("a closing connection is never paused", () => {
  const { input, flow: f, setOpen } = flow();
  setOpen(false);
  f.published();
  f.chunkDone();
  f.setBlocked("memory");
  assert.deepEqual(input.calls, []);
});

test("a consumed queue past its high-water mark pauses its publishers until consumers bring it down", async () => {
  const { queue } = vhostWithQueue("q");
  const consumer = new RecordingConsumer(0);
  queue.addConsumer(consumer);
  await dispatched();
  let published = 0;
  while (!queue.overloaded) {
    queue.enqueue(message(`m${published++}`));
    assert.ok(published < 1_000_000, "the queue never reported overload");
  }
  const { input, flow: f } = flow();
  f.throttleBy(queue);
  f.throttleBy(queue); // once per queue
  assert.equal(input.paused, true);
  assert.deepEqual(input.calls, ["pause"]);
  // Consumers take messages: still paused until the backlog is down to half the mark.
  consumer.prefetch = published - Math.floor(published / 2) - 1;
  queue.dispatch();
  assert.equal(input.paused, true, `paused with ${queue.messageCount} ready of ${published}`);
  consumer.prefetch += 1;
  queue.dispatch();
  assert.equal(input.paused, false, `resumed with ${queue.messageCount} ready of ${published}`);
});

test("a throttled connection resumes when the queue loses its consumers or is deleted", async () => {
  for (const ending of ["consumer leaves", "queue deleted", "queue purged"] as const) {
    const { vhost, queue } = vhostWithQueue("q");
    const consumer = new RecordingConsumer(0);
    queue.addConsumer(consumer);
    await dispatched();
    while (!queue.overloaded) queue.enqueue(message("m"));
    const { input, flow: f } = flow();
    f.throttleBy(queue);
    assert.equal(input.paused, true);
    if (ending === "consumer leaves") queue.removeConsumer(consumer);
    else if (ending === "queue deleted") vhost.deleteQueue("q", false, false, 1);
    else queue.purge();
    assert.equal(input.paused, false, ending);
  }
});
