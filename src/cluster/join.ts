/**
 * What a node does to join the cluster (loaded by src/broker.ts with a
 * dynamic import, only with --cluster-nats): connect to NATS and open the
 * JetStream store.
 */
import type { Logger } from "../log.js";
import type { PropertiesCodec } from "../store/types.js";
import { JetStreamStore } from "../store/jetstream/jetstream-store.js";
import { ClusterConnection } from "./nats-connection.js";
export { Membership } from "./membership.js";
import type { ClusterOptions } from "./options.js";

export interface JoinedCluster {
  connection: ClusterConnection;
  store: JetStreamStore;
}

export async function joinCluster(
  options: ClusterOptions,
  codec: PropertiesCodec,
  logger: Logger,
): Promise<JoinedCluster> {
  const connection = await ClusterConnection.open(options, logger);
  try {
    const store = await JetStreamStore.open({
      nc: connection.nc,
      js: connection.js,
      jsm: connection.jsm,
      codec,
      logger: logger.child({ module: "store" }),
      nodeName: connection.nodeName,
      replicas: connection.replicas,
      // Each queue is read by the node that wins its lease (openQueue), never by every node at start.
      recoverAll: false,
    });
    return { connection, store };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
