/**
 * The settable options: one row per setting, giving its flag, environment
 * variable, value parser and help text. Flags and env vars are derived from
 * the same row so their names can never drift apart.
 */
import { DEFAULTS, MQTT_DEFAULTS, type MqttConfig, type PortsConfig, type WarrenConfig } from "./defaults.js";
import { isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from "../log.js";
import { CLUSTER_OPTIONS } from "./cluster-options.js";

/** Parses a raw string; returns undefined when invalid. */
type Parser<T> = (raw: string) => T | undefined;

export interface OptionSpec {
  flag: string;
  env: string;
  /** Placeholder shown in --help. */
  arg: string;
  help: string;
  defaultText: string;
  /** What a valid value looks like, for the error message. */
  expected: string;
  /** Parses and stores the value; false when the value is invalid. */
  apply(config: WarrenConfig, raw: string): boolean;
  /** A switch: the bare flag means "true" (`--flag=false` turns it off). */
  boolean?: true;
}

const parsePort: Parser<number | "off"> = (raw) => {
  if (raw === "off") return "off";
  if (!/^[0-9]{1,5}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 65535 ? n : undefined;
};

const positiveNumber: Parser<number> = (raw) => {
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) && n > 0 ? n : undefined;
};

const nonEmpty: Parser<string> = (raw) => (raw.trim() === "" ? undefined : raw);

/** "a, b" → ["a", "b"]; "*" anywhere → null (any origin); an empty list is invalid. */
const parseOrigins: Parser<string[] | null> = (raw) => {
  const origins = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (origins.length === 0) return undefined;
  return origins.includes("*") ? null : origins;
};

function option<T>(
  row: Omit<OptionSpec, "apply">,
  parse: Parser<T>,
  store: (config: WarrenConfig, value: T) => void,
): OptionSpec {
  return {
    ...row,
    apply(config, raw) {
      const value = parse(raw);
      if (value === undefined) return false;
      store(config, value);
      return true;
    },
  };
}

function portOption(key: keyof PortsConfig, flagName: string, protocol: string): OptionSpec {
  const env = `WARREN_${flagName.toUpperCase().replaceAll("-", "_")}_PORT`;
  return option(
    {
      flag: `--${flagName}-port`,
      env,
      arg: "<port|off>",
      help: `${protocol} listener port`,
      defaultText: String(DEFAULTS.ports[key]),
      expected: "a port 0-65535 or 'off'",
    },
    parsePort,
    (config, value) => {
      config.ports[key] = value;
    },
  );
}

const parseBoolean: Parser<boolean> = (raw) => (raw === "true" ? true : raw === "false" ? false : undefined);

type TlsFileKey = "certFile" | "keyFile" | "caFile" | "keyPassphrase" | "ciphers";
type TlsSwitchKey = "verifyPeer" | "failIfNoPeerCert" | "certLogin";

/** A TLS setting holding text (a file path, the passphrase, the cipher list). */
function tlsOption(key: TlsFileKey, flagName: string, arg: string, help: string, expected: string): OptionSpec {
  return option(
    {
      flag: `--tls-${flagName}`,
      env: `WARREN_TLS_${flagName.toUpperCase().replaceAll("-", "_")}`,
      arg,
      help,
      defaultText: "none",
      expected,
    },
    nonEmpty,
    (config, value) => {
      config.tls[key] = value;
    },
  );
}

/** A TLS switch: `--tls-verify-peer` alone turns it on. */
function tlsSwitch(key: TlsSwitchKey, flagName: string, help: string): OptionSpec {
  return {
    ...option(
      {
        flag: `--tls-${flagName}`,
        env: `WARREN_TLS_${flagName.toUpperCase().replaceAll("-", "_")}`,
        arg: "[true|false]",
        help,
        defaultText: "false",
        expected: "true or false",
      },
      parseBoolean,
      (config: WarrenConfig, value: boolean) => {
        config.tls[key] = value;
      },
    ),
    boolean: true,
  };
}

/** An MQTT setting: an integer in [min, max], stored under config.mqtt. */
function mqttOption(
  key: keyof MqttConfig,
  flagName: string,
  arg: string,
  help: string,
  min: number,
  max: number,
): OptionSpec {
  return option(
    {
      flag: `--mqtt-${flagName}`,
      env: `WARREN_MQTT_${flagName.toUpperCase().replaceAll("-", "_")}`,
      arg,
      help,
      defaultText: String(MQTT_DEFAULTS[key]),
      expected: `an integer from ${min} to ${max}`,
    },
    (raw) => (/^[0-9]+$/.test(raw) && Number(raw) >= min && Number(raw) <= max ? Number(raw) : undefined),
    (config, value) => {
      config.mqtt[key] = value;
    },
  );
}

export const OPTIONS: readonly OptionSpec[] = [
  option(
    {
      flag: "--host",
      env: "WARREN_HOST",
      arg: "<address>",
      help: "interface to listen on (:: = all IPv4 and IPv6 interfaces)",
      defaultText: DEFAULTS.host,
      expected: "a host name or IP address",
    },
    nonEmpty,
    (config, value) => {
      config.host = value;
    },
  ),
  portOption("amqp", "amqp", "AMQP 0-9-1"),
  portOption("mqtt", "mqtt", "MQTT"),
  portOption("stomp", "stomp", "STOMP"),
  portOption("http", "http", "HTTP management API, UI, /metrics, /ws/*"),
  portOption("webStomp", "web-stomp", "STOMP over WebSocket (/ws)"),
  portOption("webMqtt", "web-mqtt", "MQTT over WebSocket (/ws)"),
  portOption("amqps", "amqps", "AMQP 0-9-1 over TLS (with --tls-cert)"),
  portOption("mqtts", "mqtts", "MQTT over TLS (with --tls-cert)"),
  portOption("stomps", "stomps", "STOMP over TLS (with --tls-cert)"),
  portOption("stream", "stream", "RabbitMQ stream protocol"),
  portOption("https", "https", "HTTPS: management API, UI, /metrics, WSS /ws/* (with --tls-cert)"),
  tlsOption(
    "certFile",
    "cert",
    "<file>",
    "PEM server certificate (chain) for every TLS listener; opens the TLS ports",
    "a file path",
  ),
  tlsOption("keyFile", "key", "<file>", "PEM private key of --tls-cert", "a file path"),
  tlsOption("caFile", "ca", "<file>", "PEM CA certificates that client certificates must chain to", "a file path"),
  tlsOption("keyPassphrase", "key-passphrase", "<text>", "passphrase of an encrypted --tls-key", "a passphrase"),
  tlsOption(
    "ciphers",
    "ciphers",
    "<list>",
    "OpenSSL cipher list (TLS 1.2 and 1.3 suites) instead of Node's default",
    "an OpenSSL cipher list",
  ),
  tlsSwitch(
    "verifyPeer",
    "verify-peer",
    "ask TLS clients for a certificate; one that does not chain to --tls-ca is refused",
  ),
  tlsSwitch(
    "failIfNoPeerCert",
    "fail-if-no-peer-cert",
    "refuse TLS clients without a certificate (implies --tls-verify-peer)",
  ),
  tlsSwitch(
    "certLogin",
    "cert-login",
    "log in by the client certificate's CN: AMQP EXTERNAL, MQTT and STOMP without a password (implies --tls-verify-peer)",
  ),
  mqttOption(
    "sessionExpirySeconds",
    "session-expiry",
    "<seconds>",
    "how long an MQTT 3.1/3.1.1 clean-session=0 session outlives its connection (RabbitMQ's subscription_ttl)",
    0,
    0xffffffff,
  ),
  mqttOption(
    "prefetch",
    "prefetch",
    "<count>",
    "QoS 1/2 deliveries in flight per MQTT connection (MQTT 5 clients may ask for fewer)",
    1,
    65535,
  ),
  mqttOption(
    "maxPacketSize",
    "max-packet-size",
    "<bytes>",
    "largest MQTT packet accepted (larger: DISCONNECT 0x95)",
    64,
    268_435_455,
  ),
  mqttOption("topicAliasMaximum", "topic-alias-maximum", "<count>", "topic aliases an MQTT 5 client may use", 0, 65535),
  mqttOption(
    "receiveMaximum",
    "receive-maximum",
    "<count>",
    "unreleased QoS 2 publishes an MQTT 5 client may have (more: DISCONNECT 0x93)",
    1,
    65535,
  ),
  mqttOption(
    "maxKeepAlive",
    "max-keep-alive",
    "<seconds>",
    "keep-alive ceiling given to MQTT 5 clients as Server Keep Alive (0 = none)",
    0,
    65535,
  ),
  mqttOption("connectTimeout", "connect-timeout", "<ms>", "time from TCP accept to MQTT CONNECT", 1, 3_600_000),
  option(
    {
      flag: "--web-stomp-allowed-origins",
      env: "WARREN_WEB_STOMP_ALLOWED_ORIGINS",
      arg: "<origins>",
      help: "comma-separated browser origins allowed on Web-STOMP (/ws, /ws/stomp, SockJS /stomp); others get 403; * = any",
      defaultText: "* (any origin)",
      expected: "a comma-separated list of origins such as https://app.example.com, or *",
    },
    parseOrigins,
    (config, value) => {
      config.webStompAllowedOrigins = value;
    },
  ),
  option(
    {
      flag: "--metrics-auth",
      env: "WARREN_METRICS_AUTH",
      arg: "<true|false>",
      help: "require a login tagged monitoring or administrator on /metrics (default open, as RabbitMQ)",
      defaultText: String(DEFAULTS.metricsAuth),
      expected: "true or false",
    },
    (raw) => (raw === "true" ? true : raw === "false" ? false : undefined),
    (config, value) => {
      config.metricsAuth = value;
    },
  ),
  option(
    {
      flag: "--data-dir",
      env: "WARREN_DATA_DIR",
      arg: "<path>",
      help: "directory for definitions and messages",
      defaultText: DEFAULTS.dataDir,
      expected: "a directory path",
    },
    nonEmpty,
    (config, value) => {
      config.dataDir = value;
    },
  ),
  option(
    {
      flag: "--vm-memory-high-watermark",
      env: "WARREN_VM_MEMORY_HIGH_WATERMARK",
      arg: "<fraction|bytes>",
      help: "block publishers past this memory use: a fraction of RAM (<= 1) or bytes",
      defaultText: String(DEFAULTS.vmMemoryHighWatermark),
      expected: "a fraction in (0, 1] or a byte count",
    },
    positiveNumber,
    (config, value) => {
      config.vmMemoryHighWatermark = value;
    },
  ),
  option(
    {
      flag: "--disk-free-limit",
      env: "WARREN_DISK_FREE_LIMIT",
      arg: "<bytes>",
      help: "block publishers when the data dir's disk has less free space",
      defaultText: String(DEFAULTS.diskFreeLimit),
      expected: "a byte count",
    },
    (raw) => (/^[0-9]+$/.test(raw) ? Number(raw) : undefined),
    (config, value) => {
      config.diskFreeLimit = value;
    },
  ),
  option(
    {
      flag: "--queue-memory-messages",
      env: "WARREN_QUEUE_MEMORY_MESSAGES",
      arg: "<count>",
      help: "ready messages a durable queue keeps in memory; persistent ones past it stay on disk (only an index in memory)",
      defaultText: String(DEFAULTS.queueMemoryMessages),
      expected: "a message count",
    },
    (raw) => (/^[0-9]+$/.test(raw) ? Number(raw) : undefined),
    (config, value) => {
      config.queueMemoryMessages = value;
    },
  ),
  option(
    {
      flag: "--max-connections",
      env: "WARREN_MAX_CONNECTIONS",
      arg: "<count>",
      help: "logged-in connections the node accepts over all protocols (RabbitMQ's connection_max)",
      defaultText: "no limit",
      expected: "a connection count",
    },
    (raw) => (/^[0-9]+$/.test(raw) ? Number(raw) : undefined),
    (config, value) => {
      config.maxConnections = value;
    },
  ),
  option(
    {
      flag: "--log-level",
      env: "WARREN_LOG_LEVEL",
      arg: "<level>",
      help: `log level: ${LOG_LEVELS.join(", ")}`,
      defaultText: DEFAULTS.logLevel,
      expected: `one of ${LOG_LEVELS.join(", ")}`,
    },
    (raw) => (isLogLevel(raw) ? raw : undefined),
    (config, value) => {
      config.logLevel = value;
    },
  ),
  option(
    {
      flag: "--log-format",
      env: "WARREN_LOG_FORMAT",
      arg: "<format>",
      help: "log line format: text (readable) or json",
      defaultText: "text on a terminal, else json",
      expected: `one of ${LOG_FORMATS.join(", ")}`,
    },
    (raw) => (isLogFormat(raw) ? raw : undefined),
    (config, value) => {
      config.logFormat = value;
    },
  ),
  option(
    {
      flag: "--log-file",
      env: "WARREN_LOG_FILE",
      arg: "<path>",
      help: "also append the log to this file, rotated at 10 MB (5 kept)",
      defaultText: "none",
      expected: "a file path",
    },
    (raw) => (raw === "" ? undefined : raw),
    (config, value) => {
      config.logFile = value;
    },
  ),
  ...CLUSTER_OPTIONS,
];
