/**
 * The store contract held in process memory: what "durable" means for an
 * embedded broker that was asked to keep nothing on disk. Re-opening a
 * MemoryStore over the same MemoryBacking sees what the previous one kept,
 * which is how the contract suite simulates a restart.
 */
import type {
  DefinitionsSnapshot,
  MessageLog,
  MessageLogStats,
  MqttStateStore,
  PropertiesCodec,
  RecoveredMessage,
  RecoveredQueue,
  Store,
  StoredMessage,
} from "../types.js";
import { MemoryMqttBacking, MemoryMqttState } from "./memory-mqtt-state.js";

interface MemoryRecord {
  queueKey: string;
  exchange: string;
  routingKey: string;
  properties: RecoveredMessage["properties"];
  encodedProperties: Buffer;
  body: Buffer;
  delivered: boolean;
  enqueuedAt: number;
  transient: boolean;
}

/** What survives a MemoryStore "restart". */
export class MemoryBacking {
  definitions: string | null = null;
  readonly mqtt = new MemoryMqttBacking();
  readonly messages = new Map<number, MemoryRecord>();
  nextId = 1;
}

class MemoryMessageLog implements MessageLog {
  readonly syncPending = false;

  constructor(
    private readonly backing: MemoryBacking,
    private readonly codec: PropertiesCodec,
  ) {}

  /** Nothing to wait for; still asynchronous so callers see the same shape as the file log. */
  afterSync(callback: (error: Error | null) => void): void {
    queueMicrotask(() => callback(null));
  }

  recover(): Map<string, RecoveredQueue> {
    const out = new Map<string, RecoveredQueue>();
    for (const [id, record] of this.backing.messages) {
      if (record.transient) {
        this.backing.messages.delete(id);
        continue;
      }
      let recovered = out.get(record.queueKey);
      if (!recovered) out.set(record.queueKey, (recovered = { ids: [], bodyBytes: 0 }));
      recovered.ids.push(id);
      recovered.bodyBytes += record.body.length;
    }
    return out;
  }

  read(ids: readonly number[]): RecoveredMessage[] {
    const out: RecoveredMessage[] = [];
    for (const id of ids) {
      const record = this.backing.messages.get(id);
      if (!record) continue;
      out.push({
        id,
        exchange: record.exchange,
        routingKey: record.routingKey,
        properties: record.properties,
        encodedProperties: record.encodedProperties,
        body: record.body,
        redelivered: record.delivered,
        enqueuedAt: record.enqueuedAt,
      });
    }
    return out;
  }

  enqueue(queueKey: string, message: StoredMessage, enqueuedAt: number, transient = false): number {
    const id = this.backing.nextId++;
    this.backing.messages.set(id, {
      queueKey,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: message.properties,
      encodedProperties: message.encodedProperties ?? this.codec.encode(message.properties),
      body: message.body,
      delivered: false,
      enqueuedAt,
      transient,
    });
    return id;
  }

  pageOut(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    return this.enqueue(queueKey, message, enqueuedAt, true);
  }

  delivered(id: number): void {
    const record = this.backing.messages.get(id);
    if (record) record.delivered = true;
  }

  remove(id: number): void {
    this.backing.messages.delete(id);
  }

  deleteQueue(queueKey: string): void {
    for (const [id, record] of this.backing.messages)
      if (record.queueKey === queueKey) this.backing.messages.delete(id);
  }

  stats(): MessageLogStats {
    return { segments: 0, bytesOnDisk: 0, liveMessages: this.backing.messages.size };
  }
}

export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  readonly messages: MessageLog;
  readonly mqtt: MqttStateStore;

  constructor(
    private readonly backing: MemoryBacking,
    codec: PropertiesCodec,
  ) {
    this.messages = new MemoryMessageLog(backing, codec);
    this.mqtt = new MemoryMqttState(backing.mqtt);
  }

  loadDefinitions(): DefinitionsSnapshot | null {
    return this.backing.definitions === null ? null : (JSON.parse(this.backing.definitions) as DefinitionsSnapshot);
  }

  saveDefinitions(snapshot: DefinitionsSnapshot): void {
    this.backing.definitions = JSON.stringify(snapshot);
  }

  async close(): Promise<void> {}
}
