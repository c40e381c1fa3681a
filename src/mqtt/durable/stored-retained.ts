import type { MqttStateChange, MqttStateStore, StoredRetained } from "../../store/types.js";
import { MemoryRetainedStore, type RetainedMessage, type RetainedStore } from "../retained.js";

/**
 * Retained messages that survive a restart: kept in memory for matching,
 * and each change written to the store's MQTT state as one record (the store
 * makes it durable before the PUBACK of the publish that set it leaves).
 */
export class StoredRetainedStore implements RetainedStore {
  private readonly memory = new MemoryRetainedStore();

  constructor(
    private readonly state: MqttStateStore,
    recovered: readonly StoredRetained[],
  ) {
    for (const { vhost, topic, qos, payload, properties } of recovered)
      this.memory.put(vhost, { topic, qos, payload, properties });
  }

  put(vhost: string, message: RetainedMessage): void {
    this.memory.put(vhost, message);
    this.state.putRetained({
      vhost,
      topic: message.topic,
      qos: message.qos,
      payload: message.payload,
      properties: message.properties,
    });
  }

  delete(vhost: string, topic: string): void {
    this.memory.delete(vhost, topic);
    this.state.deleteRetained(vhost, topic);
  }

  /** Another cluster node set or cleared a retained message: matched here from now on, not written again. */
  applyRemote(change: Extract<MqttStateChange, { kind: "retained" }>): void {
    const retained = change.retained;
    if (retained === null) this.memory.delete(change.vhost, change.topic);
    else
      this.memory.put(change.vhost, {
        topic: retained.topic,
        qos: retained.qos,
        payload: retained.payload,
        properties: retained.properties,
      });
  }

  match(vhost: string, filter: string): RetainedMessage[] {
    return this.memory.match(vhost, filter);
  }

  flush(): void {
    this.state.flush();
  }
}
