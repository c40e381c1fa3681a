import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import { attachStore, saveDefinitionsNow } from "../persistence/attach-store.js";
import type { OpenedStore } from "../persistence/open-store.js";
import { JetStreamStore } from "../store/jetstream/jetstream-store.js";
import type { PropertiesCodec } from "../store/types.js";
import type { ClusterConnection } from "./nats-connection.js";

/**
 * A cluster node's store: JetStream, with no queue read at start (each is
 * read by openQueue when this node wins its lease). Interim wiring of the
 * routing branch; the cluster-store branch owns the final one (definitions
 * watch, replies held until replicated).
 */
export async function openClusterStore(
  broker: Broker,
  connection: ClusterConnection,
  codec: PropertiesCodec,
  logger: Logger,
): Promise<OpenedStore & { store: JetStreamStore }> {
  const log = logger.child({ module: "store" });
  const store = await JetStreamStore.open({
    js: connection.js,
    jsm: connection.jsm,
    codec,
    logger: log,
    nodeName: connection.nodeName,
    replicas: connection.replicas,
    recoverAll: false,
  });
  // Queues stay in memory (Infinity): JetStreamMessageLog.read serves only what this node holds.
  const { fresh } = attachStore(broker, store, log, Number.POSITIVE_INFINITY);
  return {
    store,
    fresh,
    commitStartup: () => saveDefinitionsNow(broker, store),
    mqtt: { state: store.mqtt, recovered: store.mqtt.recover() },
  };
}
