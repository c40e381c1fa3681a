import type { CoreError, CoreErrorKind } from "../core/errors.js";

/**
 * MQTT reason codes (MQTT 5 §2.4) and the 3.1.1 CONNACK return codes they
 * correspond to (§3.2.2.3), in one catalog.
 */
export const RC = {
  SUCCESS: 0x00,
  GRANTED_QOS_1: 0x01,
  GRANTED_QOS_2: 0x02,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  UNSPECIFIED_ERROR: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC_ERROR: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  SERVER_SHUTTING_DOWN: 0x8b,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_IDENTIFIER_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  QOS_NOT_SUPPORTED: 0x9b,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** MQTT 3.1/3.1.1 CONNACK return codes. */
export const CONNACK_V3 = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** The 3.1.1 CONNACK code for an MQTT 5 reason code. */
export function connackV3(reason: number): number {
  switch (reason) {
    case RC.SUCCESS:
      return CONNACK_V3.ACCEPTED;
    case RC.UNSUPPORTED_PROTOCOL_VERSION:
      return CONNACK_V3.UNACCEPTABLE_PROTOCOL_VERSION;
    case RC.CLIENT_IDENTIFIER_NOT_VALID:
      return CONNACK_V3.IDENTIFIER_REJECTED;
    case RC.BAD_USER_NAME_OR_PASSWORD:
      return CONNACK_V3.BAD_USERNAME_OR_PASSWORD;
    case RC.NOT_AUTHORIZED:
      return CONNACK_V3.NOT_AUTHORIZED;
    default:
      return CONNACK_V3.SERVER_UNAVAILABLE;
  }
}

/** MQTT 3.1.1's one SUBACK failure code [MQTT-3.9.3]. */
export const SUBACK_FAILURE_V3 = 0x80;

/**
 * The one translation of the core's errors into MQTT 5 reason codes, used
 * for CONNACK, SUBACK, PUBACK/PUBREC and DISCONNECT alike (as
 * amqp/reply-codes.ts is for AMQP). Only a permission problem is "Not
 * authorized"; a valid request the broker will not carry out (a subscription
 * queue declared elsewhere with other arguments, or held exclusively by an
 * AMQP connection) is "Implementation specific error" (MQTT 5 §3.9.3: "The
 * SUBSCRIBE is valid but the Server does not accept it"); a broken invariant
 * inside the broker reveals nothing: "Unspecified error".
 */
const REASON_OF_KIND: Record<CoreErrorKind, number> = {
  "access-refused": RC.NOT_AUTHORIZED,
  // RabbitMQ's not_allowed is a refused vhost; RabbitMQ 3.10 answers CONNECT with "not authorized".
  "not-allowed": RC.NOT_AUTHORIZED,
  "precondition-failed": RC.IMPLEMENTATION_SPECIFIC_ERROR,
  "resource-locked": RC.IMPLEMENTATION_SPECIFIC_ERROR,
  "not-found": RC.IMPLEMENTATION_SPECIFIC_ERROR,
  "resource-error": RC.QUOTA_EXCEEDED,
  "command-invalid": RC.UNSPECIFIED_ERROR,
  "not-implemented": RC.UNSPECIFIED_ERROR,
  "internal-error": RC.UNSPECIFIED_ERROR,
};

export function reasonForCoreError(error: CoreError): number {
  // MQTT 5 §2.4 0x97: "An implementation or administrative imposed limit has been exceeded."
  return error.limit !== null ? RC.QUOTA_EXCEEDED : REASON_OF_KIND[error.kind];
}

/** A protocol violation that ends the connection; MQTT 5 clients get a DISCONNECT with `reason` first. */
export class MqttProtocolError extends Error {
  constructor(
    readonly reason: number,
    message: string,
  ) {
    super(message);
    this.name = "MqttProtocolError";
  }

  /** A core error that ends the connection (3.1.1 has no per-packet reason, or the packet has none). */
  static fromCore(error: CoreError, context?: string): MqttProtocolError {
    return new MqttProtocolError(
      reasonForCoreError(error),
      context === undefined ? error.message : `${context}: ${error.message}`,
    );
  }
}
