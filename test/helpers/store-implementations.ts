/**
 * Every store implementation, for the contract suites (CONVENTIONS #7): each
 * `create()` makes a fresh backing and returns an `open()` whose stores share
 * it, as a restarted broker shares its data dir.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { decodeProperties, encodeProperties } from "../../src/amqp/codec/properties.js";
import { silentLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { MemoryBacking, MemoryStore } from "../../src/store/memory/memory-store.js";
import type { PropertiesCodec, Store } from "../../src/store/types.js";
import { ClusterConnection } from "../../src/cluster/nats-connection.js";
import { JetStreamStore } from "../../src/store/jetstream/jetstream-store.js";
import { skipWithout } from "./binaries.js";
import { NATS_PACKAGE, NATS_SERVER, startNatsCluster, type NatsCluster } from "./nats-cluster.js";

export const codec: PropertiesCodec = { encode: encodeProperties, decode: (b) => decodeProperties(b, 0, b.length) };

export interface StoreImplementation {
  name: string;
  /** Set when the implementation cannot run here (jetstream without nats-server, outside CI). */
  skip: string | false;
  create(): Promise<() => Promise<Store>>;
}

/**
 * A JetStream store at replicas 1 over its own connection (the store does not own it: close both). Options
 * beyond the prefix are the store's own (recoverAll false: queues are read by openQueue, as a cluster owner).
 */
export async function openJetStreamStore(
  urls: readonly string[],
  options: { nodeName: string; prefix: string; partitions?: number; recoverAll?: boolean },
): Promise<{ connection: ClusterConnection; store: JetStreamStore }> {
  const connection = await ClusterConnection.open(
    { nats: urls, nodeName: options.nodeName, replicas: 1 },
    silentLogger(),
  );
  const store = await JetStreamStore.open({
    nc: connection.nc,
    js: connection.js,
    jsm: connection.jsm,
    codec,
    logger: silentLogger(),
    replicas: 1,
    ...options,
  });
  return { connection, store };
}

/** Call at module top level: temp dirs of the file implementation are removed after the file's tests. */
export function storeImplementations(): StoreImplementation[] {
  const tempDirs: string[] = [];
  let nats: Promise<NatsCluster> | null = null;
  let stores = 0;
  after(async () => {
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
    if (nats) await (await nats).stop();
  });
  return [
    {
      name: "memory",
      skip: false,
      async create() {
        const backing = new MemoryBacking();
        return async () => new MemoryStore(backing, codec);
      },
    },
    {
      name: "file",
      skip: false,
      async create() {
        const dir = await mkdtemp(join(tmpdir(), "warren-contract-"));
        tempDirs.push(dir);
        return async () => new FileStore({ dir, codec, logger: silentLogger() });
      },
    },
    {
      // One nats-server for the file's tests; each created backing is its own set of buckets and streams.
      name: "jetstream",
      skip: skipWithout(NATS_SERVER, NATS_PACKAGE, "the jetstream store runs against a real nats-server"),
      async create() {
        nats ??= startNatsCluster(1);
        const server = await nats;
        const prefix = `contract${++stores}`;
        return async () => {
          const { connection, store } = await openJetStreamStore(server.urls, { nodeName: "contract", prefix });
          const close = store.close.bind(store);
          // The store does not own the connection; here each "restart" is a new one, closed with its store.
          return Object.assign(store, { close: async () => (await close(), await connection.close()) });
        };
      },
    },
  ];
}
