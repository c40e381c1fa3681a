/**
 * The one validated configuration a broker runs with: startBroker's
 * options laid over the table in defaults.ts, each value checked once here,
 * so that no adapter merges defaults of its own or meets a bad number.
 */
import { ErrorCodes, WarrenError } from "../errors.js";
import { DEFAULTS, MQTT_DEFAULTS, STOMP_DEFAULTS, type MqttSettings, type StompLimitsConfig } from "./defaults.js";

/** AMQP 0-9-1 connection limits (connection.tune and the handshake deadline). */
export interface AmqpSettings {
  frameMax: number;
  channelMax: number;
  /** seconds; 0 disables */
  heartbeat: number;
  /** ms to complete the handshake before the socket is dropped */
  handshakeTimeout: number;
  maxMessageSize: number;
}

/** STOMP limits, plus the Web-STOMP endpoints' hygiene. */
export interface StompSettings extends StompLimitsConfig {
  /** Browser origins allowed on the Web-STOMP endpoints; undefined = any. */
  allowedOrigins: readonly string[] | undefined;
  /** Largest incoming WebSocket message, bytes (ws maxPayload). */
  maxWebSocketMessageBytes: number;
}

export interface AlarmSettings {
  /** A fraction of system memory (<= 1) or bytes (> 1). */
  memoryHighWatermark: number;
  diskFreeLimit: number;
  intervalMs: number;
}

/** What startBroker takes that has a default in the table; every field may be left out. */
export interface BrokerSettingsInput {
  limits?: Partial<AmqpSettings>;
  mqtt?: Partial<MqttSettings>;
  stomp?: { handshakeTimeoutMs?: number; allowedOrigins?: string[]; maxWebSocketMessageBytes?: number };
  alarms?: Partial<AlarmSettings>;
  maxConnections?: number;
}

export interface BrokerSettings {
  amqp: AmqpSettings;
  mqtt: MqttSettings;
  stomp: StompSettings;
  alarms: AlarmSettings;
  /** null = no limit. */
  maxConnections: number | null;
}

/** setTimeout/setInterval take at most 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A number in [min, max], or a WarrenError naming the option. */
function checked(name: string, value: number, min: number, max: number, integer = true): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new WarrenError(
      ErrorCodes.INVALID_CONFIG,
      `invalid value ${String(value)} for ${name}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max}`,
    );
  }
  return value;
}

function amqpSettings(input: Partial<AmqpSettings> = {}): AmqpSettings {
  return {
    // AMQP 0-9-1 §4.2.3: frame-max is at least frame-min-size and fits a long.
    frameMax: checked("limits.frameMax", input.frameMax ?? DEFAULTS.frameMax, DEFAULTS.frameMin, 0xffffffff),
    channelMax: checked("limits.channelMax", input.channelMax ?? DEFAULTS.channelMax, 1, 0xffff),
    heartbeat: checked("limits.heartbeat", input.heartbeat ?? DEFAULTS.heartbeat, 0, 0xffff),
    handshakeTimeout: checked(
      "limits.handshakeTimeout",
      input.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
      1,
      MAX_TIMER_MS,
    ),
    maxMessageSize: checked(
      "limits.maxMessageSize",
      input.maxMessageSize ?? DEFAULTS.maxMessageSize,
      1,
      DEFAULTS.maxMessageSizeCeiling,
    ),
  };
}

/** The same ranges as the --mqtt-* flags (options.ts). */
function mqttSettings(input: Partial<MqttSettings> = {}): MqttSettings {
  const value = <K extends keyof MqttSettings>(key: K, min: number, max: number): number =>
    checked(`mqtt.${key}`, input[key] ?? MQTT_DEFAULTS[key], min, max);
  const settings: MqttSettings = {
    sessionExpirySeconds: value("sessionExpirySeconds", 0, 0xffffffff),
    prefetch: value("prefetch", 1, 65535),
    maxPacketSize: value("maxPacketSize", 64, 268_435_455),
    maxPacketSizeBeforeConnect: value("maxPacketSizeBeforeConnect", 64, 268_435_455),
    topicAliasMaximum: value("topicAliasMaximum", 0, 65535),
    receiveMaximum: value("receiveMaximum", 1, 65535),
    maxKeepAlive: value("maxKeepAlive", 0, 65535),
    connectTimeout: value("connectTimeout", 1, MAX_TIMER_MS),
    publisherBacklogHigh: value("publisherBacklogHigh", 1, Number.MAX_SAFE_INTEGER),
    publisherBacklogLow: value("publisherBacklogLow", 0, Number.MAX_SAFE_INTEGER),
    ackBacklogHigh: value("ackBacklogHigh", 1, Number.MAX_SAFE_INTEGER),
    ackBacklogLow: value("ackBacklogLow", 0, Number.MAX_SAFE_INTEGER),
  };
  for (const [low, high] of [
    ["publisherBacklogLow", "publisherBacklogHigh"],
    ["ackBacklogLow", "ackBacklogHigh"],
  ] as const) {
    if (settings[low] >= settings[high])
      throw new WarrenError(
        ErrorCodes.INVALID_CONFIG,
        `mqtt.${low} (${settings[low]}) must be below mqtt.${high} (${settings[high]})`,
      );
  }
  return settings;
}

function stompSettings(input: BrokerSettingsInput["stomp"] = {}): StompSettings {
  const limits: StompLimitsConfig = {
    ...STOMP_DEFAULTS,
    handshakeTimeout: checked(
      "stomp.handshakeTimeoutMs",
      input.handshakeTimeoutMs ?? STOMP_DEFAULTS.handshakeTimeout,
      1,
      MAX_TIMER_MS,
    ),
  };
  // A whole frame fits by default: the body limit, the header limit and its command line.
  const wholeFrame = limits.maxBodyBytes + limits.maxHeaderBytes + 1024;
  return {
    ...limits,
    allowedOrigins: input.allowedOrigins ? [...input.allowedOrigins] : undefined,
    maxWebSocketMessageBytes: checked(
      "stomp.maxWebSocketMessageBytes",
      input.maxWebSocketMessageBytes ?? wholeFrame,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function alarmSettings(input: Partial<AlarmSettings> = {}): AlarmSettings {
  return {
    memoryHighWatermark: checked(
      "alarms.memoryHighWatermark",
      input.memoryHighWatermark ?? DEFAULTS.vmMemoryHighWatermark,
      Number.MIN_VALUE,
      Number.MAX_SAFE_INTEGER,
      false,
    ),
    diskFreeLimit: checked(
      "alarms.diskFreeLimit",
      input.diskFreeLimit ?? DEFAULTS.diskFreeLimit,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    intervalMs: checked("alarms.intervalMs", input.intervalMs ?? DEFAULTS.alarmIntervalMs, 1, MAX_TIMER_MS),
  };
}

/** Lays `input` over the defaults table and validates the result; a bad value is a WarrenError (WARREN_ERR_INVALID_CONFIG). */
export function resolveBrokerSettings(input: BrokerSettingsInput = {}): BrokerSettings {
  return {
    amqp: amqpSettings(input.limits),
    mqtt: mqttSettings(input.mqtt),
    stomp: stompSettings(input.stomp),
    alarms: alarmSettings(input.alarms),
    maxConnections:
      input.maxConnections === undefined
        ? null
        : checked("maxConnections", input.maxConnections, 0, Number.MAX_SAFE_INTEGER),
  };
}
