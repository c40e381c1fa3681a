/**
 * One contract, every store implementation (CONVENTIONS #7): what a store
 * keeps across a "restart" (a new store object over the same backing).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DefinitionsSnapshot, Store, StoredMessage } from "../../src/store/types.js";
import { codec, storeImplementations } from "../helpers/store-implementations.js";

const implementations = storeImplementations();

const message = (body: string, headers: Record<string, number | string> = {}): StoredMessage => ({
  exchange: "ex",
  routingKey: "rk",
  properties: { deliveryMode: 2, contentType: "text/plain", headers },
  encodedProperties: null,
  body: Buffer.from(body),
});

const synced = (store: Store): Promise<void> =>
  new Promise((resolve, reject) => store.messages.afterSync((error) => (error ? reject(error) : resolve())));

const definitions: DefinitionsSnapshot = {
  warren_version: 1,
  users: [{ name: "u", password_hash: "h", hashing_algorithm: "rabbit_password_hashing_sha256", tags: [] }],
  vhosts: [{ name: "/" }],
  permissions: [{ user: "u", vhost: "/", configure: ".*", write: ".*", read: ".*" }],
  exchanges: [],
  queues: [{ name: "q", vhost: "/", durable: true, auto_delete: false, arguments: { "x-max-length": 5 } }],
  bindings: [],
  policies: [],
};

for (const impl of implementations) {
  describe(`store contract: ${impl.name}`, { skip: impl.skip }, () => {
    test("a fresh store has no definitions; saved ones are loaded after a restart", async () => {
      const open = await impl.create();
      const first = await open();
      assert.equal(first.loadDefinitions(), null);
      first.messages.recover();
      first.saveDefinitions(definitions);
      await first.close();
      const second = await open();
      assert.deepEqual(second.loadDefinitions(), definitions);
      second.messages.recover();
      await second.close();
    });

    test("messages come back per queue in order with properties and body; removed ones do not", async () => {
      const open = await impl.create();
      const store = await open();
      assert.equal(store.messages.recover().size, 0);
      const a1 = store.messages.enqueue("/\u0000a", message("a1", { n: 1 }), Date.now());
      const b1 = store.messages.enqueue("/\u0000b", message("b1"), Date.now());
      const a2 = store.messages.enqueue("/\u0000a", message("a2"), Date.now());
      store.messages.enqueue("/\u0000a", message("a3"), Date.now());
      store.messages.remove(a2);
      store.messages.delivered(a1);
      await synced(store);
      await store.close();

      const again = await open();
      const recovered = again.messages.recover();
      const a = again.messages.read(recovered.get("/\u0000a")?.ids ?? []);
      assert.deepEqual(
        a.map((m) => [m.body.toString(), m.redelivered]),
        [
          ["a1", true],
          ["a3", false],
        ],
      );
      assert.equal(a[0]?.id, a1);
      assert.deepEqual(a[0]?.properties, { deliveryMode: 2, contentType: "text/plain", headers: { n: 1 } });
      assert.deepEqual(codec.decode(a[0]?.encodedProperties), a[0]?.properties);
      assert.equal(a[0]?.exchange, "ex");
      assert.equal(a[0]?.routingKey, "rk");
      assert.deepEqual(
        again.messages.read(recovered.get("/\u0000b")?.ids ?? []).map((m) => [m.id, m.body.toString()]),
        [[b1, "b1"]],
      );
      // Ids keep growing across restarts, so an old remove record can never match a new message.
      assert.ok(again.messages.enqueue("/\u0000a", message("a4"), Date.now()) > a2);
      await again.close();
    });

    test("a deleted queue's messages do not come back, and a new queue of that name starts empty", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      store.messages.enqueue("/\u0000q", message("old1"), Date.now());
      store.messages.enqueue("/\u0000q", message("old2"), Date.now());
      store.messages.deleteQueue("/\u0000q");
      store.messages.enqueue("/\u0000q", message("new"), Date.now());
      await synced(store);
      await store.close();
      const again = await open();
      assert.deepEqual(
        again.messages.read(again.messages.recover().get("/\u0000q")?.ids ?? []).map((m) => m.body.toString()),
        ["new"],
      );
      assert.equal(again.messages.stats().liveMessages, 1);
      await again.close();
    });

    test("a transient message paged out reads back while running but never survives a restart", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      const kept = store.messages.enqueue("/\u0000q", message("kept"), Date.now());
      const paged = store.messages.pageOut("/\u0000q", message("paged"), Date.now());
      await synced(store);
      assert.deepEqual(
        store.messages.read([kept, paged]).map((m) => m.body.toString()),
        ["kept", "paged"],
      );
      store.messages.delivered(paged);
      assert.equal(store.messages.read([paged])[0]?.redelivered, true);
      await store.close();
      const again = await open();
      assert.deepEqual(again.messages.recover().get("/\u0000q")?.ids, [kept]);
      assert.equal(again.messages.stats().liveMessages, 1);
      await again.close();
    });

    test("afterSync callbacks run in registration order, each after what was appended before it", async () => {
      const open = await impl.create();
      const store = await open();
      store.messages.recover();
      const order: number[] = [];
      store.messages.enqueue("/\u0000q", message("1"), Date.now());
      store.messages.afterSync(() => order.push(1));
      store.messages.afterSync(() => order.push(2));
      store.messages.enqueue("/\u0000q", message("2"), Date.now());
      store.messages.afterSync(() => order.push(3));
      await synced(store);
      assert.deepEqual(order, [1, 2, 3]);
      assert.equal(store.messages.syncPending, false);
      await store.close();
    });
  });
}
