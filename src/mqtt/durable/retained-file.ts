import type { QoS } from "mqtt-packet";
import type { Logger } from "../../log.js";
import { MemoryRetainedStore, type RetainedMessage, type RetainedStore } from "../retained.js";
import { AtomicJsonFile, CoalescedWriter } from "./atomic-json-file.js";
import { propertiesFromJson, propertiesToJson, type PropertiesJson } from "./properties-json.js";

interface RetainedJson {
  vhost: string;
  topic: string;
  qos: QoS;
  /** base64 */
  payload: string;
  properties: PropertiesJson;
}

interface RetainedDocument {
  warren_mqtt_retained: 1;
  messages: RetainedJson[];
}

/**
 * Retained messages that survive a restart: kept in memory for matching,
 * the whole set written to `mqtt-retained.json` after each burst of changes.
 * Retained sets are small (one message per topic), so rewriting the file is
 * cheaper than keeping a log of their changes.
 */
export class FileRetainedStore implements RetainedStore {
  private readonly memory = new MemoryRetainedStore();
  private readonly file: AtomicJsonFile;
  private readonly writer: CoalescedWriter;

  constructor(dir: string, logger: Logger) {
    this.file = new AtomicJsonFile(dir, "mqtt-retained.json", logger);
    this.writer = new CoalescedWriter(() => this.file.save(this.snapshot()), logger, "MQTT retained messages");
    const document = this.file.load() as RetainedDocument | null;
    for (const m of document?.messages ?? []) {
      this.memory.put(m.vhost, { topic: m.topic, qos: m.qos, payload: Buffer.from(m.payload, "base64"), properties: propertiesFromJson(m.properties) });
    }
    if (document) logger.info({ retained: document.messages.length }, "MQTT retained messages recovered");
  }

  put(vhost: string, message: RetainedMessage): void {
    this.memory.put(vhost, message);
    this.writer.changed();
  }

  delete(vhost: string, topic: string): void {
    this.memory.delete(vhost, topic);
    this.writer.changed();
  }

  match(vhost: string, filter: string): RetainedMessage[] {
    return this.memory.match(vhost, filter);
  }

  /** Writes now what is pending (broker shutdown). */
  flush(): void {
    this.writer.flush();
  }

  private snapshot(): RetainedDocument {
    const messages: RetainedJson[] = [];
    for (const [vhost, m] of this.memory.all()) {
      messages.push({ vhost, topic: m.topic, qos: m.qos, payload: m.payload.toString("base64"), properties: propertiesToJson(m.properties) });
    }
    return { warren_mqtt_retained: 1, messages };
  }
}
