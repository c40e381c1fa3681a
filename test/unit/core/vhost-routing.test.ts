/**
 * VHost.route: exchange-to-exchange bindings and alternate exchanges as
 * RabbitMQ's rabbit_exchange:route/2 follows them (each queue reached once,
 * loops end, an exchange's AE used only when that exchange routed nowhere).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Exchange } from "../../../src/core/exchanges/exchange.js";
import type { FieldTable } from "../../../src/core/message.js";
import type { Queue } from "../../../src/core/queue.js";
import { VHost } from "../../../src/core/vhost.js";
import { message } from "./recording-consumer.js";

function setup(): {
  vhost: VHost;
  exchange: (name: string, type: string, args?: FieldTable) => Exchange;
  queue: (name: string) => Queue;
  routed: (exchange: string, key: string) => string[];
} {
  const vhost = new VHost("/");
  return {
    vhost,
    exchange: (name, type, args = {}) =>
      vhost.declareExchange(name, { type, durable: false, autoDelete: false, internal: false, arguments: args }, false),
    queue: (name) =>
      vhost.declareQueue(name, { durable: false, exclusive: false, autoDelete: false, arguments: {} }, false, 1).queue,
    routed: (exchange, key) =>
      vhost
        .route(vhost.getExchange(exchange), key, {})
        .map((q) => q.name)
        .sort(),
  };
}

test("the default exchange routes by queue name; a direct exchange by exact key", () => {
  const { vhost, exchange, queue, routed } = setup();
  queue("q1");
  vhost.bind(exchange("d", "direct"), queue("q2"), "k", {});
  assert.deepEqual(routed("", "q1"), ["q1"]);
  assert.deepEqual(routed("", "nope"), []);
  assert.deepEqual(routed("d", "k"), ["q2"]);
  assert.deepEqual(routed("d", "k2"), []);
});

test("exchange-to-exchange bindings are followed, and a queue reached twice gets the message once", () => {
  const { vhost, exchange, queue, routed } = setup();
  const x = exchange("x", "topic");
  const y = exchange("y", "fanout");
  vhost.bind(x, y, "a.*", {});
  vhost.bind(x, queue("q1"), "a.b", {});
  vhost.bind(y, queue("q1"), "", {});
  vhost.bind(y, queue("q2"), "", {});
  assert.deepEqual(routed("x", "a.b"), ["q1", "q2"]);
  assert.deepEqual(routed("x", "a.c"), ["q1", "q2"]);
  assert.deepEqual(routed("x", "b"), []);
  // publish() enqueues once per queue, too.
  vhost.publish(x, message("m", {}, "a.b"));
  assert.equal(vhost.getQueue("q1").messageCount, 1);
});

test("a cycle of exchange-to-exchange bindings ends, each queue reached once", () => {
  const { vhost, exchange, queue, routed } = setup();
  const x = exchange("x", "fanout");
  const y = exchange("y", "fanout");
  const z = exchange("z", "fanout");
  vhost.bind(x, y, "", {});
  vhost.bind(y, z, "", {});
  vhost.bind(z, x, "", {});
  vhost.bind(z, queue("qz"), "", {});
  vhost.bind(y, queue("qy"), "", {});
  assert.deepEqual(routed("x", "any"), ["qy", "qz"]);
  assert.deepEqual(routed("z", "any"), ["qy", "qz"]);
});

test("an unroutable message goes to the alternate exchange; a routable one does not", () => {
  const { vhost, exchange, queue, routed } = setup();
  vhost.bind(exchange("ae", "fanout"), queue("unrouted"), "", {});
  vhost.bind(exchange("x", "direct", { "alternate-exchange": "ae" }), queue("q"), "k", {});
  assert.deepEqual(routed("x", "k"), ["q"]);
  assert.deepEqual(routed("x", "other"), ["unrouted"]);
});

test("alternate exchanges chain (AE of an AE), and a loop of them ends with nothing routed", () => {
  const { vhost, exchange, queue, routed } = setup();
  exchange("x", "direct", { "alternate-exchange": "ae1" });
  exchange("ae1", "direct", { "alternate-exchange": "ae2" });
  vhost.bind(exchange("ae2", "fanout"), queue("last"), "", {});
  assert.deepEqual(routed("x", "k"), ["last"]);
  exchange("p", "direct", { "alternate-exchange": "r" });
  exchange("r", "direct", { "alternate-exchange": "p" });
  assert.deepEqual(routed("p", "k"), []);
  // An AE that does not exist routes nowhere (RabbitMQ logs nothing either).
  exchange("lonely", "direct", { "alternate-exchange": "missing" });
  assert.deepEqual(routed("lonely", "k"), []);
});

test("an exchange reached through an exchange-to-exchange binding uses its own AE when it routes nowhere", () => {
  const { vhost, exchange, queue, routed } = setup();
  const x = exchange("x", "fanout");
  const y = exchange("y", "direct", { "alternate-exchange": "ae" });
  vhost.bind(exchange("ae", "fanout"), queue("from-ae"), "", {});
  vhost.bind(x, y, "", {});
  vhost.bind(y, queue("qy"), "k", {});
  assert.deepEqual(routed("x", "k"), ["qy"]);
  assert.deepEqual(routed("x", "other"), ["from-ae"]);
});

test("an exchange whose only match was already reached does not use its AE (RabbitMQ 3.10 delivers to q1 only)", () => {
  const { vhost, exchange, queue, routed } = setup();
  const x = exchange("x", "direct");
  const y = exchange("y", "direct", { "alternate-exchange": "z" });
  vhost.bind(exchange("z", "fanout"), queue("qz"), "", {});
  vhost.bind(x, queue("q1"), "k", {});
  vhost.bind(x, y, "k", {});
  vhost.bind(y, queue("q1"), "k", {});
  assert.deepEqual(routed("x", "k"), ["q1"]);
});

test("unbinding and deleting stop routing; deleting a queue removes its bindings", () => {
  const { vhost, exchange, queue, routed } = setup();
  const x = exchange("x", "topic");
  const q = queue("q");
  vhost.bind(x, q, "a.#", {});
  vhost.bind(x, q, "#.b", {});
  assert.deepEqual(routed("x", "a.b"), ["q"]);
  vhost.unbind(x, q, "a.#", {});
  assert.deepEqual(routed("x", "a.c"), []);
  assert.deepEqual(routed("x", "a.b"), ["q"]);
  vhost.deleteQueue("q", false, false, 1);
  assert.equal(x.bindings.size, 0);
  assert.deepEqual(routed("x", "a.b"), []);
});

test("an auto-delete exchange goes when its last binding goes", () => {
  const { vhost, queue } = setup();
  const x = vhost.declareExchange(
    "ad",
    { type: "fanout", durable: false, autoDelete: true, internal: false, arguments: {} },
    false,
  );
  const q = queue("q");
  vhost.bind(x, q, "", {});
  vhost.unbind(x, q, "", {});
  assert.equal(vhost.exchanges.has("ad"), false);
});
