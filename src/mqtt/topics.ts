/**
 * MQTT topic names and filters, and their mapping onto amq.topic routing
 * keys as RabbitMQ's MQTT plugin does (rabbit_mqtt_util:mqtt_to_amqp/1):
 * `/` ↔ `.`, `+` → `*`, `#` → `#`.
 */

/** The last topic name found valid: a publisher mostly repeats one. */
let lastValidTopic = "";

/** [MQTT-4.7.3-1..3] non-empty, no wildcards, no NUL. */
export function isValidTopicName(topic: string): boolean {
  if (topic === lastValidTopic && topic !== "") return true;
  const valid = topic.length > 0 && !/[+#\u0000]/.test(topic) && Buffer.byteLength(topic) <= 65535;
  if (valid) lastValidTopic = topic;
  return valid;
}

/** [MQTT-4.7.1-2/3] `#` only last and alone in its level; `+` alone in its level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return false;
    if (level.includes("+") && level !== "+") return false;
  }
  return true;
}

/** Mapped names, both ways, bounded as the core's route cache is: full, a map starts over. */
const MAPPED_CACHE_SIZE = 1024;
const routingKeys = new Map<string, string>();
const topics = new Map<string, string>();

function cached(cache: Map<string, string>, key: string, map: (key: string) => string): string {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= MAPPED_CACHE_SIZE) cache.clear();
    value = map(key);
    cache.set(key, value);
  }
  return value;
}

const mapTopic = (topic: string): string => topic.replaceAll("/", ".").replaceAll("+", "*");
const mapRoutingKey = (routingKey: string): string => routingKey.replaceAll(".", "/");

export function topicToRoutingKey(topic: string): string {
  return cached(routingKeys, topic, mapTopic);
}

/** AMQP routing keys published into amq.topic reach MQTT subscribers with `.` as `/`. */
export function routingKeyToTopic(routingKey: string): string {
  return cached(topics, routingKey, mapRoutingKey);
}

/**
 * Whether `filter` matches `topic`, with [MQTT-4.7.2-1]: a filter starting
 * with a wildcard does not match a topic starting with `$`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i] as string;
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** `$share/<group>/<filter>` (MQTT 5 §4.8.2), or null for an ordinary filter. */
export function parseSharedFilter(filter: string): { group: string; filter: string } | null | "invalid" {
  if (!filter.startsWith("$share/")) return null;
  const rest = filter.slice("$share/".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return "invalid";
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (/[+#]/.test(group) || !isValidTopicFilter(inner)) return "invalid";
  return { group, filter: inner };
}
