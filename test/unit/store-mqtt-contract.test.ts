/**
 * The MQTT part of the store contract (sessions, retained messages), run
 * against every implementation: what survives a "restart" (a new store over
 * the same backing).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RecoveredMqttState, Store, StoredMqttSession, StoredRetained } from "../../src/store/types.js";
import { storeImplementations } from "../helpers/store-implementations.js";

const implementations = storeImplementations();

const session = (clientId: string, overrides: Partial<StoredMqttSession> = {}): StoredMqttSession => ({
  vhost: "/",
  clientId,
  expirySeconds: 3600,
  detachedAt: 1_700_000_000_000,
  subscriptions: [
    {
      key: "a/+",
      filter: "a/+",
      qos: 1,
      group: null,
      noLocal: false,
      retainAsPublished: true,
      retainHandling: 0,
      identifier: 7,
    },
    {
      key: "$share/g/b/#",
      filter: "b/#",
      qos: 2,
      group: "g",
      noLocal: true,
      retainAsPublished: false,
      retainHandling: 2,
      identifier: undefined,
    },
  ],
  inboundQos2: [3, 65535],
  ...overrides,
});

const retained = (topic: string, payload: string, vhost = "/"): StoredRetained => ({
  vhost,
  topic,
  qos: 1,
  properties: {
    deliveryMode: 2,
    contentType: "text/plain",
    headers: { "x-mqtt-publish-qos": 1, nested: { deep: "yes" } },
  },
  payload: Buffer.from(payload),
});

/** Order-free view of a recovered state, for comparison (undefined identifiers as JSON drops them). */
function normalised(state: RecoveredMqttState): unknown {
  const sessions = state.sessions
    .map((s) => ({
      ...s,
      subscriptions: s.subscriptions.map((sub) => ({ ...sub, identifier: sub.identifier ?? null })),
    }))
    .sort((a, b) => `${a.vhost}/${a.clientId}`.localeCompare(`${b.vhost}/${b.clientId}`));
  const messages = state.retained
    .map((m) => ({ ...m, payload: m.payload.toString() }))
    .sort((a, b) => `${a.vhost}/${a.topic}`.localeCompare(`${b.vhost}/${b.topic}`));
  return { sessions, retained: messages };
}

/** Restart: close this store (pending writes first) and open the next over the same backing. */
async function restart(store: Store, open: () => Promise<Store>): Promise<{ store: Store; state: RecoveredMqttState }> {
  await store.close();
  const next = await open();
  next.messages.recover();
  return { store: next, state: next.mqtt.recover() };
}

for (const impl of implementations) {
  describe(`store contract, MQTT state: ${impl.name}`, { skip: impl.skip }, () => {
    test("a fresh store has none; sessions and retained messages put come back after a restart", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      assert.deepEqual(store.mqtt.recover(), { sessions: [], retained: [] });
      store.mqtt.putSession(session("c1"));
      store.mqtt.putSession(session("c2", { vhost: "other", detachedAt: 0, subscriptions: [], inboundQos2: [] }));
      store.mqtt.putRetained(retained("t/1", "one"));
      store.mqtt.putRetained(retained("t/1", "other vhost", "other"));
      store.mqtt.putRetained({ ...retained("t/empty-props", "x"), properties: {}, qos: 0 });
      const { store: again, state } = await restart(store, open);
      assert.deepEqual(
        normalised(state),
        normalised({
          sessions: [
            session("c1"),
            session("c2", { vhost: "other", detachedAt: 0, subscriptions: [], inboundQos2: [] }),
          ],
          retained: [
            retained("t/1", "one"),
            retained("t/1", "other vhost", "other"),
            { ...retained("t/empty-props", "x"), properties: {}, qos: 0 },
          ],
        }),
      );
      assert.equal(again.mqtt.stats().records, 5);
      await again.close();
    });

    test("a put replaces the session or topic's previous one; a delete removes it; deleting what is not there is harmless", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      store.mqtt.recover();
      store.mqtt.putSession(session("c1"));
      store.mqtt.putSession(session("c1", { expirySeconds: 5, inboundQos2: [] }));
      store.mqtt.putSession(session("gone"));
      store.mqtt.deleteSession("/", "gone");
      store.mqtt.deleteSession("/", "never-there");
      store.mqtt.putRetained(retained("t", "first"));
      store.mqtt.putRetained(retained("t", "second"));
      store.mqtt.putRetained(retained("cleared", "x"));
      store.mqtt.deleteRetained("/", "cleared");
      store.mqtt.deleteRetained("/", "never-there");
      const first = await restart(store, open);
      const expected = normalised({
        sessions: [session("c1", { expirySeconds: 5, inboundQos2: [] })],
        retained: [retained("t", "second")],
      });
      assert.deepEqual(normalised(first.state), expected);
      // A second restart with no change in between sees the same.
      const second = await restart(first.store, open);
      assert.deepEqual(normalised(second.state), expected);
      assert.equal(second.store.mqtt.stats().records, 2);
      await second.store.close();
    });

    test("a session's subscription list and QoS 2 ids are copied at put: later changes by the caller are not kept", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      store.mqtt.recover();
      const subscriptions = [...session("c").subscriptions];
      const inboundQos2 = [1];
      store.mqtt.putSession({ ...session("c"), subscriptions, inboundQos2 });
      subscriptions.pop();
      inboundQos2.push(2);
      store.mqtt.flush();
      const { store: again, state } = await restart(store, open);
      assert.equal(state.sessions[0]?.subscriptions.length, 2);
      assert.deepEqual(state.sessions[0]?.inboundQos2, [1]);
      await again.close();
    });
  });
}
