/**
 * MQTT sessions and retained messages on disk: one append-only file of
 * checksummed records (mqtt-state-codec.ts), the latest record per session
 * or topic being the live one. A change appends that one record, so with
 * 100k retained messages a publish still writes one record, where the old
 * JSON files were rewritten whole per burst.
 *
 * Writes are coalesced per microtask and made durable synchronously there
 * (write + fdatasync), before the replies of the same input are flushed
 * (setImmediate): see MqttStateStore. When dead records outweigh live ones
 * (and the file is past a floor), live records are copied to a new file
 * that replaces the old one atomically, so each write pays for at most one
 * record of compaction on average.
 */
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import { mqttStateKey } from "../mqtt-state-key.js";
import type {
  MqttStateStats,
  MqttStateStore,
  PropertiesCodec,
  RecoveredMqttState,
  StoredMqttSession,
  StoredRetained,
} from "../types.js";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./file-modes.js";
import {
  MqttRecordType,
  decodeMqttRecord,
  encodeRetainedDelete,
  encodeRetainedPut,
  encodeSessionDelete,
  encodeSessionPut,
} from "./mqtt-state-codec.js";
import type { Quarantine } from "./quarantine.js";
import { readFrame } from "./record-codec.js";
import { fsyncDirectory } from "./segment-files.js";

export interface MqttStateLogOptions {
  /** Below this size the file is never compacted (rewriting a small file saves nothing). */
  compactFloor: number;
}

export const DEFAULT_MQTT_STATE_LOG_OPTIONS: MqttStateLogOptions = { compactFloor: 1024 * 1024 };

/** Where a live record is in the file. */
interface Located {
  offset: number;
  length: number;
}

const SESSION = "s";
const RETAINED = "r";

export class MqttStateLog implements MqttStateStore {
  readonly path: string;
  private readonly compactPath: string;
  private fd: number | null = null;
  /** Live records by kind + vhost + name. */
  private readonly live = new Map<string, Located>();
  private liveBytes = 0;
  private size = 0;
  private bytesWritten = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private recovered = false;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly codec: PropertiesCodec,
    private readonly logger: Logger,
    private readonly quarantine: Quarantine,
    private readonly options: MqttStateLogOptions = DEFAULT_MQTT_STATE_LOG_OPTIONS,
  ) {
    this.path = join(dir, "state.log");
    this.compactPath = join(dir, "state.log.compact");
  }

  // ---- recovery ----------------------------------------------------------

  recover(): RecoveredMqttState {
    if (this.recovered) throw new Error("MQTT state already recovered");
    this.recovered = true;
    mkdirSync(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // A compaction that did not reach its rename: the old file is still whole.
    rmSync(this.compactPath, { force: true });
    const sessions = new Map<string, StoredMqttSession>();
    const retained = new Map<string, StoredRetained>();
    let buf: Buffer;
    try {
      buf = readFileSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      buf = Buffer.alloc(0);
    }
    let quarantined = 0;
    let offset = 0;
    while (offset < buf.length) {
      const frame = readFrame(buf, offset);
      if (!frame.ok) {
        // A crash tears only the tail (appends only). A whole frame with a bad checksum is damage instead:
        // what follows it cannot be framed again, so it is kept in the quarantine before the cut.
        const kept =
          frame.reason === "checksum mismatch"
            ? this.quarantine.setAside("mqtt-state-damaged", buf.subarray(offset))
            : null;
        this.logger.warn(
          { file: this.path, offset, reason: frame.reason, bytesCut: buf.length - offset, quarantine: kept },
          "MQTT state: torn or damaged tail cut",
        );
        truncateSync(this.path, offset);
        break;
      }
      const length = frame.next - offset;
      try {
        const record = decodeMqttRecord(buf, frame.start, frame.next, this.codec);
        const apply = <T>(state: Map<string, T>, kind: string, key: string, value: T | null): void => {
          if (value === null) state.delete(key);
          else state.set(key, value);
          this.locate(kind + key, value === null ? null : { offset, length });
        };
        switch (record.type) {
          case MqttRecordType.SessionPut:
            apply(sessions, SESSION, mqttStateKey(record.session.vhost, record.session.clientId), record.session);
            break;
          case MqttRecordType.SessionDelete:
            apply(sessions, SESSION, mqttStateKey(record.vhost, record.clientId), null);
            break;
          case MqttRecordType.RetainedPut:
            apply(retained, RETAINED, mqttStateKey(record.retained.vhost, record.retained.topic), record.retained);
            break;
          case MqttRecordType.RetainedDelete:
            apply(retained, RETAINED, mqttStateKey(record.vhost, record.topic), null);
            break;
        }
      } catch (error) {
        const file = this.quarantine.setAside("mqtt-state", buf.subarray(offset, frame.next));
        this.logger.warn(
          { file: this.path, offset, reason: (error as Error).message, quarantine: file },
          "MQTT state: a record that does not decode was set aside",
        );
        quarantined++;
      }
      offset = frame.next;
    }
    this.size = offset;
    this.fd = openSync(this.path, "a", PRIVATE_FILE_MODE);
    if (quarantined > 0 || this.mostlyGarbage()) this.compact(buf.subarray(0, offset));
    return { sessions: [...sessions.values()], retained: [...retained.values()] };
  }

  /** Records where a key's live record is (null: deleted); the record it replaces becomes garbage. */
  private locate(key: string, at: Located | null): void {
    const previous = this.live.get(key);
    if (previous !== undefined) this.liveBytes -= previous.length;
    if (at === null) this.live.delete(key);
    else {
      this.live.set(key, at);
      this.liveBytes += at.length;
    }
  }

  // ---- changes -----------------------------------------------------------

  putSession(session: StoredMqttSession): void {
    this.append(SESSION + mqttStateKey(session.vhost, session.clientId), encodeSessionPut(session), true);
  }

  deleteSession(vhost: string, clientId: string): void {
    const key = SESSION + mqttStateKey(vhost, clientId);
    if (this.live.has(key)) this.append(key, encodeSessionDelete(vhost, clientId), false);
  }

  putRetained(message: StoredRetained): void {
    this.append(RETAINED + mqttStateKey(message.vhost, message.topic), encodeRetainedPut(message, this.codec), true);
  }

  deleteRetained(vhost: string, topic: string): void {
    const key = RETAINED + mqttStateKey(vhost, topic);
    if (this.live.has(key)) this.append(key, encodeRetainedDelete(vhost, topic), false);
  }

  private append(key: string, record: Buffer, put: boolean): void {
    if (!this.recovered) throw new Error("MQTT state used before recover()");
    if (this.closed) return;
    this.locate(key, put ? { offset: this.size + this.pendingBytes, length: record.length } : null);
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.fd === null) return;
    const data =
      this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      writeFully(this.fd, data, this.size);
      fdatasyncSync(this.fd);
    } catch (error) {
      // Cut what part of it landed, so the records keep the offsets the index gave them, and retry with the next change.
      this.logger.error({ err: error }, "MQTT state could not be written; retried with the next change");
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The next write fails the same way and says so.
      }
      this.pending.unshift(data);
      this.pendingBytes += data.length;
      return;
    }
    this.size += data.length;
    this.bytesWritten += data.length;
    if (this.mostlyGarbage()) this.compact(readFileSync(this.path));
  }

  // ---- compaction --------------------------------------------------------

  private mostlyGarbage(): boolean {
    return this.size >= this.options.compactFloor && this.liveBytes * 2 < this.size;
  }

  /** Copies the live records out of `current` (the file's bytes) into a new file that replaces it. */
  private compact(current: Buffer): void {
    const entries = [...this.live.entries()].sort((a, b) => a[1].offset - b[1].offset);
    const out = Buffer.allocUnsafeSlow(this.liveBytes);
    let at = 0;
    for (const [, located] of entries) {
      current.copy(out, at, located.offset, located.offset + located.length);
      located.offset = at;
      at += located.length;
    }
    const fd = openSync(this.compactPath, "w", PRIVATE_FILE_MODE);
    try {
      writeFully(fd, out, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.compactPath, this.path);
    fsyncDirectory(this.dir);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(this.path, "a", PRIVATE_FILE_MODE);
    this.logger.debug({ before: this.size, after: out.length, records: entries.length }, "MQTT state compacted");
    this.size = out.length;
    this.bytesWritten += out.length;
  }

  stats(): MqttStateStats {
    return { records: this.live.size, bytesOnDisk: this.size + this.pendingBytes, bytesWritten: this.bytesWritten };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function writeFully(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}
