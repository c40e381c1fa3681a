/**
 * The acks a channel sends for answered publishes (src/amqp/confirm-tracker.ts):
 * one ack multiple up to the oldest unanswered publish, single acks past
 * it, as RabbitMQ 3.10's rabbit_channel coalesce_and_send does; a nack is
 * never covered by a later ack multiple.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfirmTracker } from "../../src/amqp/confirm-tracker.js";

function sent(tracker: ConfirmTracker): string[] {
  const out: string[] = [];
  tracker.flush((tag, multiple) => out.push(`${tag}${multiple ? "+" : ""}`));
  return out;
}

test("in-order answers go out as one ack multiple per flush", () => {
  const tracker = new ConfirmTracker();
  for (let seq = 1; seq <= 5; seq++) tracker.ack(seq);
  assert.deepEqual(sent(tracker), ["5+"]);
  tracker.ack(6);
  assert.deepEqual(sent(tracker), ["6"]);
  assert.equal(tracker.due, false);
});

test("answers past an unanswered publish go out singly; the gap filled, the multiple ack moves past them", () => {
  const tracker = new ConfirmTracker();
  tracker.ack(1);
  tracker.ack(3);
  tracker.ack(4);
  assert.deepEqual(sent(tracker), ["1", "3", "4"]);
  tracker.ack(2);
  assert.deepEqual(sent(tracker), ["4+"], "2 answered: everything up to 4 is");
  tracker.ack(5);
  assert.deepEqual(sent(tracker), ["5"]);
});

test("a nack of the next publish is not covered by the following ack multiple", () => {
  const tracker = new ConfirmTracker();
  tracker.ack(1);
  assert.deepEqual(sent(tracker), ["1"]);
  tracker.nacked(2);
  tracker.ack(3);
  assert.deepEqual(sent(tracker), ["3"]);
});

test("a nack out of order does not stop later acks (x-overflow reject-publish while an earlier publish waits for its sync)", () => {
  const tracker = new ConfirmTracker();
  tracker.nacked(2);
  tracker.ack(1);
  tracker.ack(3);
  assert.deepEqual(sent(tracker), ["3+"]);
});
