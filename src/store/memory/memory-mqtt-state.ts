/** MQTT state kept in process memory, surviving a MemoryStore "restart" over the same backing. */
import type {
  MqttStateStats,
  MqttStateStore,
  RecoveredMqttState,
  StoredMqttSession,
  StoredRetained,
} from "../types.js";
import { mqttStateKey } from "../mqtt-state-key.js";

export class MemoryMqttBacking {
  readonly sessions = new Map<string, StoredMqttSession>();
  readonly retained = new Map<string, StoredRetained>();
}

export class MemoryMqttState implements MqttStateStore {
  private recovered = false;

  constructor(private readonly backing: MemoryMqttBacking) {}

  recover(): RecoveredMqttState {
    if (this.recovered) throw new Error("MQTT state already recovered");
    this.recovered = true;
    return { sessions: [...this.backing.sessions.values()], retained: [...this.backing.retained.values()] };
  }

  putSession(session: StoredMqttSession): void {
    // Copied: the caller's arrays change as the session does.
    const copy = {
      ...session,
      subscriptions: session.subscriptions.map((s) => ({ ...s })),
      inboundQos2: [...session.inboundQos2],
    };
    this.backing.sessions.set(mqttStateKey(session.vhost, session.clientId), copy);
  }

  deleteSession(vhost: string, clientId: string): void {
    this.backing.sessions.delete(mqttStateKey(vhost, clientId));
  }

  putRetained(message: StoredRetained): void {
    this.backing.retained.set(mqttStateKey(message.vhost, message.topic), { ...message });
  }

  deleteRetained(vhost: string, topic: string): void {
    this.backing.retained.delete(mqttStateKey(vhost, topic));
  }

  flush(): void {}

  stats(): MqttStateStats {
    return { records: this.backing.sessions.size + this.backing.retained.size, bytesOnDisk: 0, bytesWritten: 0 };
  }
}
