/** Opens the store a broker was configured with and brings the core up to date from it. */
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import { attachStore, saveDefinitionsNow, type DelayedJournalSource } from "./attach-store.js";
import { DEFAULT_PAGE_AFTER } from "./paging.js";
import { FileStore } from "../store/file/file-store.js";
import type { SegmentLogOptions } from "../store/file/segment-log-options.js";
import type { MqttStateStore, PropertiesCodec, RecoveredMqttState, Store } from "../store/types.js";
import { migrateLegacyMqttFiles } from "./legacy-mqtt-files.js";

export type StorageOption =
  | "memory"
  | {
      dir: string;
      segmentLog?: Partial<SegmentLogOptions>;
      /**
       * Ready messages a durable queue keeps in memory; persistent messages
       * past it stay on disk with only an index in memory (default 10,000).
       */
      queueMemoryMessages?: number;
    };

export interface OpenedStore {
  store: Store | null;
  /** True when there was nothing to recover (memory storage or a fresh data dir): seed the default user. */
  fresh: boolean;
  /** Writes the definitions once the caller has applied its start-up changes (default user, configured users). */
  commitStartup(): void;
  /** MQTT sessions and retained messages kept by the store, for the MQTT adapter to restore; null with memory storage. */
  mqtt: { state: MqttStateStore; recovered: RecoveredMqttState } | null;
}

/**
 * A store opened by the caller (the cluster's JetStream store): attached as the file store is;
 * `delayed` gives durable delayed exchanges their journals (the cluster's writers).
 */
export function attachOpenedStore(
  broker: Broker,
  store: Store,
  logger: Logger,
  delayed: DelayedJournalSource | null = null,
): OpenedStore {
  const { fresh, recoveredMessages } = attachStore(broker, store, logger, DEFAULT_PAGE_AFTER, delayed);
  logger.info(
    { kind: store.kind, fresh, recoveredMessages },
    fresh ? "cluster state initialised" : "definitions and messages recovered",
  );
  return {
    store,
    fresh,
    commitStartup: () => saveDefinitionsNow(broker, store),
    mqtt: { state: store.mqtt, recovered: store.mqtt.recover() },
  };
}

/**
 * "memory" attaches nothing: an embedded broker then keeps no second copy
 * of persistent messages, because there is no restart for it to serve.
 */
export function openStore(
  broker: Broker,
  storage: StorageOption | undefined,
  codec: PropertiesCodec,
  logger: Logger,
): OpenedStore {
  if (storage === undefined || storage === "memory")
    return { store: null, fresh: true, commitStartup: () => {}, mqtt: null };
  const log = logger.child({ module: "store" });
  const started = performance.now();
  const store = new FileStore({
    dir: storage.dir,
    codec,
    logger: log,
    ...(storage.segmentLog ? { segmentLog: storage.segmentLog } : {}),
  });
  let attached: ReturnType<typeof attachStore>;
  let mqtt: RecoveredMqttState;
  try {
    attached = attachStore(broker, store, log, storage.queueMemoryMessages ?? DEFAULT_PAGE_AFTER);
    mqtt = store.mqtt.recover();
    migrateLegacyMqttFiles(storage.dir, store.mqtt, mqtt, log);
  } catch (error) {
    // Gives the data dir's lock back, so that an embedding process may try again.
    void store.close();
    throw error;
  }
  const { fresh, recoveredMessages } = attached;
  log.info(
    {
      dir: storage.dir,
      fresh,
      recoveredMessages,
      ms: Math.round(performance.now() - started),
      rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
    },
    fresh ? "data directory initialised" : "definitions and messages recovered",
  );
  return {
    store,
    fresh,
    commitStartup: () => saveDefinitionsNow(broker, store),
    mqtt: { state: store.mqtt, recovered: mqtt },
  };
}
