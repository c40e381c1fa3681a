/**
 * The store of a Warren cluster node (issue 10): definitions and MQTT state
 * in replicated KV buckets, persistent messages in partition streams. What
 * the Store interface reads synchronously (definitions, MQTT state, the
 * messages of recovered queues) is loaded when the store opens.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import type { DefinitionEntity, DefinitionsSnapshot, PropertiesCodec, ReplicatedState, Store } from "../types.js";
import { entitiesOf, keyOf } from "./definition-keys.js";
import { snapshotOf } from "../definition-entities.js";
import { JetStreamMessageLog } from "./jetstream-message-log.js";
import { JetStreamMqttState } from "./jetstream-mqtt-state.js";
import { ReplicatedBucket } from "./replicated-bucket.js";
import { StreamPublisher } from "./stream-publisher.js";
import { WriteTracker } from "./write-tracker.js";

export interface JetStreamStoreOptions {
  /** The connection of `js`: the message log publishes its records on it directly (stream-publisher.ts). */
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  codec: PropertiesCodec;
  logger: Logger;
  /** Written into every change, so that a node's watch skips its own. */
  nodeName: string;
  replicas: number;
  /** Names of the buckets and streams start with it (default "warren"); tests give each store its own. */
  prefix?: string;
  /** Partition streams of the message log (default 8, see docs/cluster.md). */
  partitions?: number;
  /**
   * Read every queue's messages when opening, for recover() (a restart; the
   * contract suite). false: queues are read one at a time by openQueue when
   * this node becomes their owner.
   */
  recoverAll?: boolean;
}

export const DEFAULT_PARTITIONS = 8;
/** A record JetStream has not acknowledged in this time is a failed write (a nack), as nats.js's default. */
const PUBLISH_TIMEOUT_MS = 5000;

export class JetStreamStore implements Store {
  readonly kind = "jetstream";
  readonly replicated: ReplicatedState;

  private constructor(
    private readonly definitions: ReplicatedBucket,
    private readonly mqttBucket: ReplicatedBucket,
    readonly messages: JetStreamMessageLog,
    readonly mqtt: JetStreamMqttState,
    tracker: WriteTracker,
  ) {
    this.replicated = {
      durability: tracker,
      watchDefinitions: (listener) =>
        void this.definitions.watch((_key, value, previous) =>
          listener({ before: entityOf(previous), after: entityOf(value) }),
        ),
    };
  }

  static async open(options: JetStreamStoreOptions): Promise<JetStreamStore> {
    const prefix = options.prefix ?? "warren";
    const tracker = new WriteTracker();
    const bucketOptions = { replicas: options.replicas, nodeName: options.nodeName, tracker, logger: options.logger };
    const definitions = await ReplicatedBucket.open(options.js, options.jsm, `${prefix}_definitions`, bucketOptions);
    const mqttBucket = await ReplicatedBucket.open(options.js, options.jsm, `${prefix}_mqtt`, bucketOptions);
    const messages = new JetStreamMessageLog(
      new StreamPublisher(options.nc, PUBLISH_TIMEOUT_MS),
      options.js,
      options.jsm,
      { prefix, partitions: options.partitions ?? DEFAULT_PARTITIONS, replicas: options.replicas },
      options.codec,
      options.logger,
    );
    await messages.ensureStreams();
    if (options.recoverAll ?? true) await messages.preloadAll();
    return new JetStreamStore(
      definitions,
      mqttBucket,
      messages,
      new JetStreamMqttState(mqttBucket, options.codec),
      tracker,
    );
  }

  loadDefinitions(): DefinitionsSnapshot | null {
    if (this.definitions.current.size === 0) return null;
    return snapshotOf([...this.definitions.current.values()].map((value) => entityOf(value) as DefinitionEntity));
  }

  /** Writes only the entities that changed since the last save or the last change from another node. */
  saveDefinitions(snapshot: DefinitionsSnapshot): void {
    const seen = new Set<string>();
    for (const entity of entitiesOf(snapshot)) {
      const key = keyOf(entity);
      seen.add(key);
      const value = Buffer.from(JSON.stringify(entity), "utf8");
      if (!this.definitions.current.get(key)?.equals(value)) this.definitions.put(key, value);
    }
    for (const key of [...this.definitions.current.keys()]) if (!seen.has(key)) this.definitions.delete(key);
  }

  async close(): Promise<void> {
    await this.messages.settled();
    this.messages.close();
    await this.definitions.close();
    await this.mqttBucket.close();
  }
}

const entityOf = (value: Buffer | null): DefinitionEntity | null =>
  value === null ? null : (JSON.parse(value.toString("utf8")) as DefinitionEntity);
