import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import mqtt, { type IDisconnectPacket } from "mqtt";
import { type TestBroker, waitFor as waitUpTo } from "../../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { skipWithout } from "../../helpers/binaries.js";

// A KV watch or a lease reaches the other node in milliseconds when idle, in seconds under full-suite load.
const waitFor: typeof waitUpTo = (probe, timeoutMs = 30_000) => waitUpTo(probe, timeoutMs);

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");

/**
 * MQTT sessions are cluster state (issue 10): a client that comes back to
 * another node with clean_session=false finds its subscriptions and the
 * QoS 1 messages published while it was away, as with RabbitMQ's MQTT
 * plugin on a cluster; the same client id connecting to another node takes
 * the session over from the first connection, as on one node.
 */
describe("cluster: an MQTT session moves between nodes", { skip, timeout: 240_000 }, () => {
  const nodes = useTwoClusterNodes();
  let a: TestBroker;
  let b: TestBroker;
  before(() => ({ a, b } = nodes));

  const login = { username: "guest", password: "guest" } as const;
  const queueOn = (node: TestBroker, name: string) => node.broker.core.vhosts.get("/")?.queues.get(name);

  test("a client leaving A with a QoS 1 subscription reconnects to B: session present, and it gets what was published meanwhile", async () => {
    const first = await mqtt.connectAsync(a.broker.urls.mqtt as string, { clientId: "mover", clean: false, ...login });
    await first.subscribeAsync("move/+", { qos: 1 });
    await first.endAsync();
    const queueName = "mqtt-subscription-moverqos1";
    await waitFor(() => queueOn(b, queueName)?.ownerNode === "warren@a");

    const publisher = await mqtt.connectAsync(b.broker.urls.mqtt as string, { clientId: "move-pub", ...login });
    for (let i = 0; i < 3; i++) await publisher.publishAsync(`move/${i}`, `away ${i}`, { qos: 1 });
    assert.equal(queueOn(a, queueName)?.messageCount, 3);

    const received: string[] = [];
    const second = mqtt.connect(b.broker.urls.mqtt as string, { clientId: "mover", clean: false, ...login });
    second.on("message", (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => second.once("connect", resolve));
    assert.equal(connack.sessionPresent, true);
    await waitFor(() => received.length === 3);
    assert.deepEqual(received, ["move/0=away 0", "move/1=away 1", "move/2=away 2"]);

    // The subscription came along: a publish now reaches it on B without a new SUBSCRIBE.
    await publisher.publishAsync("move/3", "now", { qos: 1 });
    await waitFor(() => received.length === 4);
    assert.equal(received[3], "move/3=now");
    await waitFor(() => queueOn(a, queueName)?.messageCount === 0 && queueOn(a, queueName)?.unackedCount === 0);
    await second.endAsync();
    await publisher.endAsync();
  });

  test("the same client id connecting to B while connected to A: A's connection is closed as taken over (0x8E), B's serves", async () => {
    const options = {
      clientId: "twice",
      clean: false,
      protocolVersion: 5 as const,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = await mqtt.connectAsync(a.broker.urls.mqtt as string, { ...options, ...login, reconnectPeriod: 0 });
    await first.subscribeAsync("twice/t", { qos: 1 });
    const disconnected = new Promise<IDisconnectPacket>((resolve) => first.once("disconnect", resolve));
    const closed = new Promise<void>((resolve) => first.once("close", resolve));
    await waitFor(() => queueOn(b, "mqtt-subscription-twiceqos1")?.ownerNode === "warren@a");

    const second = await mqtt.connectAsync(b.broker.urls.mqtt as string, { ...options, ...login });
    const packet = await disconnected;
    assert.equal(packet.reasonCode, 0x8e);
    await closed;

    const received: string[] = [];
    second.on("message", (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    const publisher = await mqtt.connectAsync(a.broker.urls.mqtt as string, { clientId: "twice-pub", ...login });
    await publisher.publishAsync("twice/t", "to the new connection", { qos: 1 });
    await waitFor(() => received.length === 1);
    assert.deepEqual(received, ["twice/t=to the new connection"]);
    await publisher.endAsync();
    await second.endAsync();
  });

  test("a retained message set on A is sent to a subscriber on B", async () => {
    const publisher = await mqtt.connectAsync(a.broker.urls.mqtt as string, { clientId: "retain-pub", ...login });
    await publisher.publishAsync("state/door", "open", { qos: 1, retain: true });
    const subscriber = await mqtt.connectAsync(b.broker.urls.mqtt as string, { clientId: "retain-sub", ...login });
    const received: string[] = [];
    subscriber.on("message", (topic, payload, packet) =>
      received.push(`${topic}=${payload.toString()} ${packet.retain}`),
    );
    await waitFor(async () => {
      // The retained record reaches B through the KV watch: subscribe again until it is there.
      await subscriber.subscribeAsync("state/#", { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      return received.length > 0;
    });
    assert.equal(received[0], "state/door=open true");
    await subscriber.endAsync();
    await publisher.endAsync();
  });

  /** Connects `clientId` to A with a will, then to B: what a watcher on B saw up to a marker published after. */
  async function takeOverWithWill(clientId: string, willDelayInterval: number): Promise<string[]> {
    // A persistent session: its queue is a cluster queue, which publishes on A reach (a clean session's is B's alone).
    const watcher = await mqtt.connectAsync(b.broker.urls.mqtt as string, {
      clientId: `${clientId}-watch`,
      clean: false,
      ...login,
    });
    const seen: string[] = [];
    watcher.on("message", (topic, payload) => seen.push(`${topic}=${payload.toString()}`));
    await watcher.subscribeAsync("wills/#", { qos: 1 });
    await waitFor(() => queueOn(a, `mqtt-subscription-${clientId}-watchqos1`) !== undefined);
    const options = {
      clientId,
      clean: false,
      protocolVersion: 5 as const,
      properties: { sessionExpiryInterval: 300 },
    };
    const will = {
      topic: `wills/${clientId}`,
      payload: Buffer.from("gone"),
      qos: 1 as const,
      retain: false,
      properties: { willDelayInterval },
    };
    const first = await mqtt.connectAsync(a.broker.urls.mqtt as string, {
      ...options,
      ...login,
      will,
      reconnectPeriod: 0,
    });
    await first.subscribeAsync(`own/${clientId}`, { qos: 1 });
    const disconnected = new Promise<IDisconnectPacket>((resolve) => first.once("disconnect", resolve));
    await waitFor(() => queueOn(b, `mqtt-subscription-${clientId}qos1`)?.ownerNode === "warren@a");
    const second = await mqtt.connectAsync(b.broker.urls.mqtt as string, { ...options, ...login });
    assert.equal((await disconnected).reasonCode, 0x8e);
    // A marker published on A after the takeover reaches the watcher after any will published at the takeover.
    const marker = await mqtt.connectAsync(a.broker.urls.mqtt as string, { clientId: `${clientId}-mark`, ...login });
    await marker.publishAsync("wills/marker", "after", { qos: 1 });
    await waitFor(() => seen.includes("wills/marker=after"));
    // B's connection serves the session.
    const own: string[] = [];
    second.on("message", (topic) => own.push(topic));
    await marker.publishAsync(`own/${clientId}`, "hello", { qos: 1 });
    await waitFor(() => own.length === 1);
    await marker.endAsync();
    await second.endAsync();
    await watcher.endAsync();
    return seen;
  }

  test("a takeover from another node publishes the old connection's will, as one node does [MQTT-3.1.2-8]", async () => {
    const seen = await takeOverWithWill("willing", 0);
    assert.deepEqual(seen, ["wills/willing=gone", "wills/marker=after"]);
  });

  test("a delayed will is not published when the session goes on at another node [MQTT-3.1.3-9]", async () => {
    const seen = await takeOverWithWill("patient", 60);
    assert.deepEqual(seen, ["wills/marker=after"]);
  });

  // Last: node A goes for good.
  test("A, owning a session's queue, stops: the client reconnecting to B finds its session and the QoS 1 messages queued at A", async () => {
    const first = await mqtt.connectAsync(a.broker.urls.mqtt as string, { clientId: "orphan", clean: false, ...login });
    await first.subscribeAsync("orphan/t", { qos: 1 });
    await first.endAsync();
    const queueName = "mqtt-subscription-orphanqos1";
    await waitFor(() => queueOn(b, queueName)?.ownerNode === "warren@a");
    const publisher = await mqtt.connectAsync(b.broker.urls.mqtt as string, { clientId: "orphan-pub", ...login });
    for (let i = 0; i < 2; i++) await publisher.publishAsync("orphan/t", `kept ${i}`, { qos: 1 });

    await nodes.stop("a");
    // B takes the queue over from JetStream once A's lease and late writes are out of the way.
    await waitFor(() => queueOn(b, queueName)?.ownerNode === "warren@b", 30_000);
    const received: string[] = [];
    const second = mqtt.connect(b.broker.urls.mqtt as string, { clientId: "orphan", clean: false, ...login });
    second.on("message", (topic, payload) => received.push(`${topic}=${payload.toString()}`));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => second.once("connect", resolve));
    assert.equal(connack.sessionPresent, true);
    await waitFor(() => received.length === 2);
    assert.deepEqual(received, ["orphan/t=kept 0", "orphan/t=kept 1"]);
    await second.endAsync();
    await publisher.endAsync();
  });
});
