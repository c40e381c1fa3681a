/**
 * MQTT sessions and retained messages in a KV bucket, one key per session
 * or topic, so that a client reconnecting to another node finds its
 * session. Records are the file store's (mqtt-state-codec.ts).
 */
import type {
  MqttStateChange,
  MqttStateStats,
  MqttStateStore,
  PropertiesCodec,
  RecoveredMqttState,
  StoredMqttSession,
  StoredRetained,
} from "../types.js";
import { decodeMqttRecord, encodeRetainedPut, encodeSessionPut, MqttRecordType } from "../file/mqtt-state-codec.js";
import { RECORD_HEADER } from "../file/record-codec.js";
import type { ReplicatedBucket } from "./replicated-bucket.js";
import { fromToken, toToken } from "./subject-token.js";

const sessionKey = (vhost: string, clientId: string): string => `session.${toToken(vhost)}.${toToken(clientId)}`;
const retainedKey = (vhost: string, topic: string): string => `retained.${toToken(vhost)}.${toToken(topic)}`;

export class JetStreamMqttState implements MqttStateStore {
  private bytesWritten = 0;

  constructor(
    private readonly bucket: ReplicatedBucket,
    private readonly codec: PropertiesCodec,
  ) {}

  recover(): RecoveredMqttState {
    const state: RecoveredMqttState = { sessions: [], retained: [] };
    for (const value of this.bucket.current.values()) {
      const record = decodeMqttRecord(value, RECORD_HEADER, value.length, this.codec);
      if (record.type === MqttRecordType.SessionPut) state.sessions.push(record.session);
      else if (record.type === MqttRecordType.RetainedPut) state.retained.push(record.retained);
    }
    return state;
  }

  putSession(session: StoredMqttSession): void {
    this.put(sessionKey(session.vhost, session.clientId), encodeSessionPut(session));
  }

  deleteSession(vhost: string, clientId: string): void {
    this.bucket.delete(sessionKey(vhost, clientId));
  }

  putRetained(message: StoredRetained): void {
    this.put(retainedKey(message.vhost, message.topic), encodeRetainedPut(message, this.codec));
  }

  deleteRetained(vhost: string, topic: string): void {
    this.bucket.delete(retainedKey(vhost, topic));
  }

  flush(): void {}

  watch(listener: (change: MqttStateChange) => void): void {
    void this.bucket.watch((key, value) => {
      const [kind, vhostToken = "", nameToken = ""] = key.split(".");
      const vhost = fromToken(vhostToken);
      const name = fromToken(nameToken);
      const record = value === null ? null : decodeMqttRecord(value, RECORD_HEADER, value.length, this.codec);
      if (kind === "session")
        listener({
          kind,
          vhost,
          clientId: name,
          session: record?.type === MqttRecordType.SessionPut ? record.session : null,
        });
      else if (kind === "retained")
        listener({
          kind,
          vhost,
          topic: name,
          retained: record?.type === MqttRecordType.RetainedPut ? record.retained : null,
        });
    }, true);
  }

  stats(): MqttStateStats {
    let bytes = 0;
    for (const value of this.bucket.current.values()) bytes += value.length;
    return { records: this.bucket.current.size, bytesOnDisk: bytes, bytesWritten: this.bytesWritten };
  }

  private put(key: string, record: Buffer): void {
    this.bytesWritten += record.length;
    this.bucket.put(key, record);
  }
}
